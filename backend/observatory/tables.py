"""Every table module, imported explicitly, and the one metadata they share.

Features keep their tables beside their code on the shared ``Base``; Alembic (migrations/env.py)
and the models-vs-migrations drift check read :data:`metadata` from here, so a new table module
is one import line below, visible to readers and tools alike.
"""

from __future__ import annotations

from observatory.alerts import models as alert_models
from observatory.db import models as core_models
from observatory.db import tool_calls as tool_call_models
from observatory.feeds import models as feed_models
from observatory.improve import models as improve_models
from observatory.outbox import models as outbox_models
from observatory.review import models as review_models

metadata = core_models.Base.metadata

__all__ = [
    "alert_models",
    "core_models",
    "feed_models",
    "improve_models",
    "metadata",
    "outbox_models",
    "review_models",
    "tool_call_models",
]
