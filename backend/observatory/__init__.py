"""Session Observatory: observability and review for AI agent sessions."""

__version__ = "0.1.0"
