"""Loading models: the reference file, located errors with hints, identity by content hash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from factories import REFERENCE_MODEL, model_text
from leadgate.errors import ModelError
from leadgate.model import load_model, model_json_schema, parse_model
from leadgate.model.spec import CheckSpec, DimensionSpec, EventCountSpec, ModelSpec, RuleSpec


def test_reference_model_loads_with_identity() -> None:
    m = load_model(REFERENCE_MODEL)
    assert m.name == "b2b-inbound"
    assert m.version == "1"
    assert list(m.spec.dimensions) == ["fit", "engagement", "intent"]
    assert len(m.hash) == 16
    assert m.identity() == {"name": "b2b-inbound", "version": "1", "hash": m.hash}


def test_hash_ignores_comments_and_formatting_but_not_content() -> None:
    text = REFERENCE_MODEL.read_text()
    a = parse_model(text)
    b = parse_model("# a comment\n" + text.replace("threshold: 60 ", "threshold:   60 "))
    c = parse_model(text.replace("threshold: 60 ", "threshold: 61 "))
    assert a.hash == b.hash
    assert a.hash != c.hash


def test_error_names_file_line_column_and_path() -> None:
    text = model_text(
        {
            "dimensions": {
                "engagement": {
                    "rules": [{"name": "a", "event": "e", "points": 2, "within_days": "30d"}]
                }
            }
        }
    )
    with pytest.raises(
        ModelError,
        match=r"m\.yaml:\d+:\d+: dimensions\.engagement\.rules\[0\]\.within_days: expected a number of days, got '30d'",
    ):
        parse_model(text, "m.yaml")


def test_unknown_operator_suggests_the_right_one() -> None:
    text = model_text(
        {
            "dimensions": {
                "fit": {"rules": [{"name": "a", "when": {"title": {"matchs": "vp"}}, "points": 1}]}
            }
        }
    )
    with pytest.raises(
        ModelError,
        match=r"rules\[0\]\.when\.title\.matchs: unknown operator 'matchs' \(hint: did you mean 'matches'\?\)",
    ):
        parse_model(text, "m.yaml")


def test_unknown_key_suggests() -> None:
    text = model_text({"treshold": 5, "dimensions": {"fit": {"rules": []}}})
    with pytest.raises(
        ModelError, match=r"unknown key 'treshold' \(hint: did you mean 'threshold'\?\)"
    ):
        parse_model(text)


@given(
    key=st.sampled_from(
        ["min", "max", "description", "rules", "threshold", "floors", "min_count", "when", "name"]
    ),
    where=st.sampled_from(["rule", "count", "dimension", "top", "gate"]),
)
def test_unknown_key_hint_never_suggests_the_rejected_key(key: str, where: str) -> None:
    # A key valid elsewhere in the model ('min' of a dimension) is unknown in a count rule: the
    # hint names a key accepted there, never the one it rejects.
    rule: dict[str, Any] = {"name": "r", "events": {"type": "email_open"}, "points": 5}
    dim: dict[str, Any] = {"rules": [rule]}
    model: dict[str, Any] = {"dimensions": {"rules": dim}}  # a dimension named like a key
    gate: dict[str, Any] = {"name": "g", "when": {"title": {"contains": "vp"}}}
    model["require"] = [gate]
    target = {"rule": rule, "count": rule["events"], "dimension": dim, "top": model, "gate": gate}
    spec = {"rule": RuleSpec, "count": EventCountSpec, "dimension": DimensionSpec,
            "top": ModelSpec, "gate": CheckSpec}[where]  # fmt: skip
    assume(key not in spec.model_fields)
    target[where][key] = 1
    with pytest.raises(ModelError) as caught:
        parse_model(model_text(model))
    message = str(caught.value)
    assert f"unknown key '{key}'" in message
    assert f"did you mean '{key}'?" not in message


def test_unknown_key_in_a_count_rule_lists_the_keys_it_accepts() -> None:
    rule = {"name": "r", "events": {"type": "email_open"}, "points": 5, "min": 2}
    with pytest.raises(ModelError) as caught:
        parse_model(model_text({"dimensions": {"fit": {"rules": [rule]}}}))
    assert "unknown key 'min' (hint: keys here: name, points, when, events," in str(caught.value)


def test_every_problem_reported_at_once_with_lines() -> None:
    text = """name: x
version: 1
threshold: 50
floors: {fitt: 10}
dimensions:
  fit:
    rules:
      - {name: a, when: {title: {matches: '(a+)+$'}}, points: 5}
      - {name: a, when: {size: {between: [10, 2]}}, points: 5}
"""
    with pytest.raises(ModelError) as info:
        parse_model(text, "bad.yaml")
    messages = [str(p) for p in info.value.problems]
    assert any(
        "bad.yaml:4:" in m
        and "floor for a dimension that does not exist: 'fitt'" in m
        and "did you mean 'fit'" in m
        for m in messages
    )
    assert any("bad.yaml:8:" in m and "unsafe regex" in m for m in messages)
    assert any("bad.yaml:9:" in m and "duplicate rule name 'a'" in m for m in messages)
    assert any("between" in m and "above high" in m for m in messages)


def test_bad_regex_and_bad_yaml() -> None:
    with pytest.raises(ModelError, match=r"invalid regex"):
        parse_model(
            model_text(
                {
                    "dimensions": {
                        "fit": {
                            "rules": [
                                {"name": "a", "when": {"t": {"matches": "(a)\\1"}}, "points": 1}
                            ]
                        }
                    }
                }
            )
        )
    with pytest.raises(ModelError, match=r"m\.yaml:2:\d+: not valid YAML"):
        parse_model("name: x\n  bad: [\n", "m.yaml")


def test_duplicate_key_is_an_error() -> None:
    with pytest.raises(ModelError, match=r"key 'threshold' appears twice"):
        parse_model(
            "name: x\nversion: 1\nthreshold: 1\nthreshold: 2\ndimensions: {fit: {rules: []}}\n"
        )


def test_rule_kind_must_be_exactly_one() -> None:
    both = {"name": "a", "when": {"t": "x"}, "event": "e", "points": 1}
    with pytest.raises(ModelError, match=r"exactly one of 'when'"):
        parse_model(model_text({"dimensions": {"fit": {"rules": [both]}}}))
    stray = {"name": "a", "when": {"t": "x"}, "points": 1, "max_count": 3}
    with pytest.raises(ModelError, match=r"'max_count' only applies to event rules"):
        parse_model(model_text({"dimensions": {"fit": {"rules": [stray]}}}))


def test_gate_needs_a_test_and_segment_names_unique() -> None:
    with pytest.raises(ModelError, match=r"require\[0\]: needs 'when' or 'events'"):
        parse_model(model_text({"dimensions": {"fit": {"rules": []}}, "require": [{"name": "g"}]}))
    segs = [{"name": "default", "when": {"a": 1}}]
    with pytest.raises(ModelError, match=r"segment name 'default' is taken"):
        parse_model(model_text({"dimensions": {"fit": {"rules": []}}, "segments": segs}))


def test_missing_file_is_a_model_error() -> None:
    with pytest.raises(ModelError, match=r"nope\.yaml: model file not found"):
        load_model("nope.yaml")


def test_json_schema_describes_the_model() -> None:
    schema = model_json_schema()
    assert schema["title"] == "leadgate scoring model"
    assert {"name", "threshold", "dimensions", "segments", "require"} <= set(schema["properties"])
    text = json.dumps(schema)
    assert "not_free_email" in text and "half_life_days" in text
