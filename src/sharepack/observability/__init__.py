"""What sharepack tells operators about itself: Prometheus metrics (`metrics.py`), shared by
the worker processes of one host through a metrics directory (`processes.py`)."""
