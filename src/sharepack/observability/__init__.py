"""What sharepack tells operators about its work: Prometheus metrics (`metrics.py`, shared by
the worker processes of one host through a metrics directory, `processes.py`), traces
(`tracing.py`) and structured logs (`logs.py`)."""
