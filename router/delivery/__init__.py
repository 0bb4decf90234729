"""Delivery: the outbox relay, the broker topology and the connector worker."""
