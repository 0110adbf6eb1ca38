"""Queues: the protocol and its backends (database table by default)."""
