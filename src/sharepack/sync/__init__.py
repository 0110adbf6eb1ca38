"""Scheduled sync jobs: the inventory of Databricks objects packs use, pipeline run
metrics, and whatever else registers a `SyncJob`; each run once per tick across all
processes, and recorded as a `sync_jobs` row."""
