"""Durable webhook delivery: endpoints, an outbox table, a claiming sender (see sender.py)."""
