"""Unified diffs against one file's text: parse, check and apply (``whatthepatch`` does the work).

A proposal's diff must touch exactly one file, apply cleanly to the text it was written against
(every context and removed line matching), change something, and leave a file within
``MAX_FILE_BYTES``. Anything else is a :class:`DiffError` whose message says why, shown to the
human next to the proposal.
"""

from __future__ import annotations

import difflib

import whatthepatch
from whatthepatch.exceptions import WhatThePatchException

# OpenClaw bounds a workspace document at 2 MiB; agent instruction files are a few KiB, and a
# proposal that grows one past 64 KiB is not a targeted edit.
MAX_FILE_BYTES = 64 * 1024
MAX_DIFF_BYTES = 32 * 1024


class DiffError(ValueError):
    """The diff cannot be applied; the message is the reason shown to the user."""


def _strip_prefix(path: str | None) -> str | None:
    if path is None or path == "/dev/null":
        return None
    return path[2:] if path[:2] in ("a/", "b/") else path


def apply(diff: str, text: str, *, name: str | None = None) -> str:
    """The file's text after ``diff``; raises :class:`DiffError` when it does not apply."""
    if len(diff.encode()) > MAX_DIFF_BYTES:
        raise DiffError(f"the diff is larger than {MAX_DIFF_BYTES} bytes")
    try:
        patches = [p for p in whatthepatch.parse_patch(diff) if p.changes]
    except WhatThePatchException as exc:
        raise DiffError(f"not a unified diff: {exc}") from None
    if not patches:
        raise DiffError("not a unified diff: no hunks found")
    if len(patches) > 1:
        raise DiffError("the diff touches more than one file")
    patch = patches[0]
    if name is not None and patch.header is not None:
        paths = {_strip_prefix(patch.header.old_path), _strip_prefix(patch.header.new_path)}
        paths.discard(None)
        if paths and paths != {name}:
            raise DiffError(
                f"the diff is for {', '.join(sorted(p for p in paths if p))}, not {name}"
            )
    try:
        lines = whatthepatch.apply_diff(patch, text)
    except WhatThePatchException as exc:
        raise DiffError(f"the diff does not apply to the current {name or 'file'}: {exc}") from None
    if lines is None:
        raise DiffError("the diff does not apply")
    # apply_diff returns lines without ends: keep the file's final newline (or its absence).
    after = "\n".join(lines) + ("\n" if lines and (text.endswith("\n") or not text) else "")
    if after == text:
        raise DiffError("the diff changes nothing")
    if len(after.encode()) > MAX_FILE_BYTES:
        raise DiffError(f"the result would be larger than {MAX_FILE_BYTES} bytes")
    return after


def make(before: str, after: str, name: str) -> str:
    """A unified diff (3 lines of context) turning ``before`` into ``after``."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{name}",
            tofile=f"b/{name}",
        )
    )
