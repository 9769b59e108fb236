"""Property-based: generated queries against a live /graphql never produce a server error."""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

SDL = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text()
schema = schemathesis.graphql.from_file(SDL)


@schema.parametrize()
@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors(case: object, live_url: str, keys: dict[str, str]) -> None:
    # A full-scope key, so every field is reachable. Input the API rejects on purpose
    # (BAD_USER_INPUT, NOT_FOUND, CONFLICT with a code) is fine; a 5xx or a masked
    # internal error is not.
    response = case.call(  # type: ignore[attr-defined]
        base_url=f"{live_url}/graphql", headers={"Authorization": f"Bearer {keys['admin']}"}
    )
    assert response.status_code < 500, response.text
    for error in response.json().get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL" and not error["message"].startswith("Internal error"), error
