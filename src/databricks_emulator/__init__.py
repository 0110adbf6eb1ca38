"""Local HTTP emulator of the Databricks REST subset sharepack uses."""
