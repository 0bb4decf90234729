"""Persistence: the tables, the engine, and transactions."""
