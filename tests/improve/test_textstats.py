from __future__ import annotations

import random

from observatory.improve.textstats import error_signature, over_represented_terms, terms


def test_error_signature_normalises_variable_parts() -> None:
    a = error_signature("ENOENT: no such file or directory, open '/srv/app/config-3.yml'")
    b = error_signature("ENOENT: no such file or directory, open '/srv/app/config-17.yml'")
    assert a == b == "enoent: no such file or directory, open <str>"
    assert error_signature("Command failed with exit code 1: npm test") == error_signature(
        "Command failed with exit code 127: npm test"
    )
    assert error_signature("GET https://api.github.com/x?page=2 returned 502") == (
        "get <url> returned <n>"
    )
    assert error_signature("connect ECONNREFUSED 10.0.0.12:5432") == "connect econnrefused <addr>"
    assert error_signature("cannot read /var/lib/app/state.db: locked") == (
        "cannot read <path>: locked"
    )
    tb = "Traceback (most recent call last):\n  File \"x.py\", line 3\nKeyError: 'user_id'"
    assert error_signature(tb) == "keyerror: <str>"
    assert error_signature("   ") == ""


def test_terms() -> None:
    assert terms("The CI timeout killed the build") == {
        "ci", "timeout", "killed", "build", "ci timeout", "timeout killed", "killed build"
    }  # fmt: skip


def test_planted_term_is_found_and_noise_is_not() -> None:
    rng = random.Random(3)
    pool = [
        "Did exactly what was asked.", "Clean result, verified the output.",
        "Needed a follow-up for edge cases.", "Skipped the tests but the change works.",
        "Slow but correct in the end.", "Reported progress clearly.",
    ]  # fmt: skip
    failed = [rng.choice(pool) for _ in range(30)]
    other = [rng.choice(pool) for _ in range(90)]
    assert over_represented_terms(failed, other) == []
    planted = failed[:18] + [f"{s} The config file was missing again." for s in failed[18:]]
    found = over_represented_terms(planted, other)
    assert found and {s.term for s in found} <= {
        "config",
        "config file",
        "file",
        "file missing",
        "missing",
    }
