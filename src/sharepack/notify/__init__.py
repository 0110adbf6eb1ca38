"""Notifications: a notice about a share pack, rendered once, queued in the database in the
transaction that decided it (the outbox), and delivered by email (SMTP) and a signed webhook.
"""
