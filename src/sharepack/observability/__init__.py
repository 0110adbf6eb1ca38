"""What sharepack tells operators about its work: traces, structured logs, metrics."""
