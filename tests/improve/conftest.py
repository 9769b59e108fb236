"""Analysis fixtures: the review suite's own database (analyses read the same review tables),
and its stub model server and settings (AI synthesis talks to the same stub)."""

from tests.review.conftest import factory, rdb_url, rengine, settings, stub, stub_server

__all__ = ["factory", "rdb_url", "rengine", "settings", "stub", "stub_server"]
