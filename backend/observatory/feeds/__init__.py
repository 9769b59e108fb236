"""Resumable feeds: session and run events with commit-safe positions (cursors), replayed from
the ``feed_events`` log and then followed live; the webhook dispatcher reads the same log."""
