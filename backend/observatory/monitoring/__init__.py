"""Watching the observatory itself: Prometheus metrics, per-request context and JSON logs."""
