"""Alerts: rules over runs, sessions and sources, evaluated by one worker at a time, delivered
through the durable outbox (observatory.outbox)."""
