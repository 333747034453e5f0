"""model/conditions.py: condition mappings -> condition nodes, with located problems."""

from __future__ import annotations

from leadgate.model.conditions import (
    AllCondition,
    AnyCondition,
    FieldCondition,
    NotCondition,
    condition_fields,
    parse_condition,
)


def test_shorthands_and_combinators_parse() -> None:
    node, problems = parse_condition(
        {"any": [{"title": "vp"}, {"country": ["us", "ca"]}], "not": {"size": {"lt": 10}}}
    )
    assert problems == [] and node is not None
    assert isinstance(node, AllCondition | AnyCondition | NotCondition | FieldCondition)
    assert condition_fields(node) == {"title", "country", "size"}


def test_an_unknown_operator_is_located_with_a_suggestion() -> None:
    node, problems = parse_condition({"title": {"contain": "vp"}}, ("rules", 0, "when"))
    assert node is None
    [problem] = problems
    assert problem.path[:3] == ("rules", 0, "when")
    assert "contain" in problem.message
    assert "contains" in (problem.message + problem.hint)


def test_a_bad_value_type_is_a_problem() -> None:
    _, problems = parse_condition({"size": {"gt": "big"}})
    assert problems and "gt" in " ".join(str(p.path) + p.message for p in problems)
    _, problems = parse_condition({"size": {"between": [5]}})
    assert problems


def test_an_empty_condition_is_a_problem() -> None:
    node, problems = parse_condition({})
    assert node is None and "non-empty mapping" in problems[0].message
