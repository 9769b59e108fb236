"""Sync: pull sessions from agent gateways, parse them, upsert them idempotently."""
