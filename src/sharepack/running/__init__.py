"""Running a queued pack: the worker, its claim and lease, provisioning, and how a run ends."""
