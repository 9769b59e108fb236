from pathlib import Path

from observatory.graphql.schema import export_sdl

SCHEMA = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_graphql_is_up_to_date() -> None:
    assert SCHEMA.read_text() == export_sdl(), (
        "schema.graphql is stale: run `observatory export-schema` (or `make schema`) and commit it"
    )
