import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from tracevault import SchemaVersionError
from tracevault.schema import (
    SCHEMA_VERSION,
    UPCASTERS,
    LLMDetail,
    OtherPart,
    Span,
    TextPart,
    json_schema,
    upcast,
)

GOLDEN = Path(__file__).parent / "golden"


def test_every_span_kind_has_a_detail_type() -> None:
    from tracevault.schema import SPAN_KINDS

    for kind in SPAN_KINDS:
        span = Span(trace_id="a" * 32, span_id="b" * 16, name="x", kind=kind,
                    start_time_ns=1, end_time_ns=2, duration_ns=1, detail={"kind": kind})
        assert span.detail.kind == kind


def test_unknown_part_types_are_kept() -> None:
    detail = LLMDetail(input_messages=[{"role": "user", "parts": [
        {"type": "text", "content": "hi"}, {"type": "audio_clip", "seconds": 3}]}])
    parts = detail.input_messages[0].parts
    assert isinstance(parts[0], TextPart)
    assert isinstance(parts[1], OtherPart) and parts[1].model_dump()["seconds"] == 3


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        Span(trace_id="a" * 32, span_id="b" * 16, name="x", start_time_ns=1,
             end_time_ns=2, duration_ns=1, bogus=1)


def test_json_schema_is_valid_and_documents_every_field() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    for name, model in schema["$defs"].items():
        for field, prop in model.get("properties", {}).items():
            if name == "OtherPart" and field == "type":
                continue
            assert prop.get("description"), f"{name}.{field} has no description"


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("span_v*.json")), ids=lambda p: p.name)
def test_golden_records_of_every_version_stay_readable(path: Path) -> None:
    record = json.loads(path.read_text())
    span = Span.model_validate(upcast(record))
    assert span.schema_version == SCHEMA_VERSION
    jsonschema.validate(span.model_dump(mode="json"),
                        {**json_schema(), "oneOf": [{"$ref": "#/$defs/Span"}]})


def test_every_older_version_has_an_upcaster() -> None:
    assert set(UPCASTERS) == set(range(1, SCHEMA_VERSION))


def test_newer_records_are_refused() -> None:
    with pytest.raises(SchemaVersionError):
        upcast({"schema_version": SCHEMA_VERSION + 1})
