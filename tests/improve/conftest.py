"""Analysis fixtures: the review suite's own database (analyses read the same review tables)."""

from tests.review.conftest import factory, rdb_url, rengine

__all__ = ["factory", "rdb_url", "rengine"]
