"""Loading a model file: YAML with line numbers, structural and semantic checks, identity.

Every problem is collected and reported together with file, line, column and a hint
(``ModelError``), so ``leadgate validate`` shows them all at once.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from leadgate.errors import ModelError, Problem
from leadgate.model.accounts_check import account_problems
from leadgate.model.conditions import Condition, FieldCondition, NotCondition, parse_condition
from leadgate.model.spec import (
    CheckSpec,
    DimensionSpec,
    EventCountSpec,
    ModelSpec,
    PqlSpec,
    RuleSpec,
    SegmentSpec,
    SignalSpec,
    measure_parts,
)

PathKey = tuple[str | int, ...]

_ALL_KEYS = sorted(
    {
        k
        for cls in (
            ModelSpec,
            DimensionSpec,
            RuleSpec,
            CheckSpec,
            EventCountSpec,
            SegmentSpec,
            PqlSpec,
            SignalSpec,
        )
        for k in cls.model_fields
    }
)


def _model_in(annotation: Any) -> tuple[type[BaseModel] | None, int]:
    """The spec class an annotation holds and how many containers (list, dict) wrap it."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, 0
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (list, dict):
        inner, depth = _model_in(args[-1])
        return inner, depth + 1
    for arg in args:  # Optional / Union / Annotated: the first branch that holds a spec class
        inner, depth = _model_in(arg)
        if inner is not None:
            return inner, depth
    return None, 0


def _keys_at(loc: PathKey) -> list[str]:
    """The keys the spec class at ``loc`` (the location of an unknown key) accepts."""
    cls: type[BaseModel] | None = ModelSpec
    skip = 0
    for step in loc[:-1]:
        if skip:  # a list index or a dict key (a dimension's name, say)
            skip -= 1
            continue
        field = cls.model_fields.get(str(step)) if cls is not None else None
        if field is None:
            return _ALL_KEYS
        cls, skip = _model_in(field.annotation)
    return list(cls.model_fields) if cls is not None else _ALL_KEYS


def unknown_key_hint(key: str, loc: PathKey) -> str:
    """A hint for an unknown key: the closest key accepted where it stands, never itself."""
    allowed = [k for k in _keys_at(loc) if k != key]
    close = difflib.get_close_matches(key, allowed, n=1)
    return f"did you mean '{close[0]}'?" if close else "keys here: " + ", ".join(allowed)


@dataclass(frozen=True)
class Model:
    """A validated model with its identity: name, version label and content hash."""

    spec: ModelSpec
    hash: str
    source: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        return self.spec.version

    def identity(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "hash": self.hash}


def content_hash(spec: ModelSpec) -> str:
    """The model's identity: sha256 over its canonical JSON, so formatting and comments don't count."""
    dumped = _without_later_defaults(spec.model_dump(mode="json"))
    canonical = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


# Keys added after models were first published, left out of the canonical JSON while they hold
# their defaults, so a model that does not use them keeps the hash (the identity) it had.
_EVENT_COUNT_DEFAULTS = {"measure": "count", "min": None, "max": None, "scope": "lead"}


def _without_later_defaults(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_later_defaults(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _without_later_defaults(v) for k, v in value.items()}
    if "min_count" in out:  # an event count (EventCountSpec)
        for key, default in _EVENT_COUNT_DEFAULTS.items():
            if key in out and out[key] == default:
                del out[key]
    for key in ("points_per", "pql", "accounts"):  # a rule's, the model's (two blocks)
        if key in out and out[key] is None:
            del out[key]
    return out


def format_path(path: PathKey) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _where(exc: yaml.YAMLError, text: str) -> tuple[int | None, int | None]:
    """Line and column (1-based) of a YAML error: its mark, or a reader error's position."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return mark.line + 1, mark.column + 1
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        return before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
    return None, None


class _Located:
    """The parsed YAML document plus where each path starts in the file."""

    def __init__(self, text: str, filename: str) -> None:
        self.filename = filename
        self.marks: dict[PathKey, tuple[int, int]] = {}
        self.duplicates: list[Problem] = []
        loader: yaml.SafeLoader | None = None
        try:
            loader = yaml.SafeLoader(text)  # checks the characters: may raise ReaderError
            node = loader.get_single_node()
            self.data = loader.construct_document(node) if node is not None else None
            if node is not None:
                self._walk(node, ())
        except yaml.YAMLError as exc:
            line, col = _where(exc, text)
            reason = getattr(exc, "problem", None) or str(exc)
            if isinstance(exc, yaml.reader.ReaderError):
                reason = f"a non-printable character (U+{exc.character:04X}) is not allowed"
            raise ModelError(
                [Problem(f"not valid YAML: {reason}", file=filename, line=line, column=col)]
            ) from None
        except RecursionError:
            raise ModelError(
                [Problem("not valid YAML: nested too deeply", file=filename, line=1)]
            ) from None
        finally:
            if loader is not None:
                loader.dispose()

    def _walk(self, node: yaml.Node, path: PathKey) -> None:
        self.marks.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in node.value:
                key = key_node.value
                child = (*path, key)
                if key in seen:
                    self.duplicates.append(
                        self.problem(child, f"key '{key}' appears twice", "remove one of them")
                    )
                seen.add(key)
                self.marks[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                self._walk(value_node, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, (*path, i))

    def problem(self, path: PathKey, message: str, hint: str = "") -> Problem:
        probe = tuple(path)
        while probe and probe not in self.marks:
            probe = probe[:-1]
        line, col = self.marks.get(probe, (None, None))
        return Problem(
            message, path=format_path(path), file=self.filename, line=line, column=col, hint=hint
        )


def _pydantic_problem(doc: _Located, err: Any) -> Problem:
    loc: PathKey = tuple(err["loc"])
    kind = err["type"]
    got = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return doc.problem(loc, f"unknown key '{key}'", unknown_key_hint(key, loc))
    if kind == "missing":
        return doc.problem(loc[:-1], f"missing required key '{loc[-1]}'")
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        what = "a number of days" if str(loc[-1]).endswith("_days") else "a number"
        if kind.startswith("int"):
            what = "a whole number"
        return doc.problem(loc, f"expected {what}, got {got!r}")
    # Unions report one error per branch; the location then carries the branch type name.
    loc = tuple(p for p in loc if not (isinstance(p, str) and p in ("str", "list[str]")))
    return doc.problem(loc, f"{err['msg'][0].lower()}{err['msg'][1:]}, got {got!r}")


def _semantic_problems(doc: _Located, spec: ModelSpec) -> list[Problem]:
    problems: list[Problem] = []

    def cond(raw: Any, path: PathKey) -> None:
        if raw is None:
            return
        _, found = parse_condition(raw)
        problems.extend(doc.problem((*path, *p.path), p.message, p.hint) for p in found)

    def checks(items: list[CheckSpec], path: PathKey) -> None:
        names: set[str] = set()
        for i, chk in enumerate(items):
            cpath = (*path, i)
            if chk.name in names:
                problems.append(doc.problem((*cpath, "name"), f"duplicate name '{chk.name}'"))
            names.add(chk.name)
            if chk.when is None and chk.events is None:
                problems.append(doc.problem(cpath, "needs 'when' or 'events'", "what must hold?"))
            cond(chk.when, (*cpath, "when"))
            if chk.events is not None:
                event_count(chk.events, (*cpath, "events"))

    def event_count(ev: EventCountSpec, path: PathKey) -> None:
        cond(ev.where, (*path, "where"))
        if ev.max_count is not None and ev.max_count < ev.min_count:
            problems.append(doc.problem((*path, "max_count"), "max_count is below min_count"))
        given = ev.model_fields_set
        if ev.measure != "count":
            for key in ("min_count", "max_count"):
                if key in given:
                    problems.append(
                        doc.problem(
                            (*path, key),
                            f"'{key}' counts events; this test measures "
                            f"{' '.join(p for p in measure_parts(ev.measure) if p)}",
                            "bound the measure with min and max",
                        )
                    )
        else:
            for key in ("min", "max"):
                if f"{key}_count" in given and key in given:
                    problems.append(
                        doc.problem((*path, key), f"give '{key}' or '{key}_count', not both")
                    )
        if ev.min is not None and ev.max is not None and ev.min > ev.max:
            problems.append(doc.problem((*path, "min"), f"min {ev.min} is above max {ev.max}"))
        if measure_parts(ev.measure) == ("sum", "lead_id"):
            problems.append(
                doc.problem((*path, "measure", "sum"), "lead_id is not a number", "use distinct")
            )

    def floors(values: dict[str, float] | None, path: PathKey) -> None:
        for dim in values or {}:
            if dim not in spec.dimensions:
                close = difflib.get_close_matches(dim, list(spec.dimensions), n=1)
                hint = (
                    f"did you mean '{close[0]}'?"
                    if close
                    else "dimensions: " + ", ".join(spec.dimensions)
                )
                problems.append(
                    doc.problem(
                        (*path, dim), f"floor for a dimension that does not exist: '{dim}'", hint
                    )
                )

    for dname, dim in spec.dimensions.items():
        dpath: PathKey = ("dimensions", dname)
        if dim.max is not None and dim.min is not None and dim.min > dim.max:
            problems.append(doc.problem((*dpath, "min"), f"min {dim.min} is above max {dim.max}"))
        names: set[str] = set()
        for i, rule in enumerate(dim.rules):
            rpath = (*dpath, "rules", i)
            if rule.name in names:
                problems.append(
                    doc.problem(
                        (*rpath, "name"),
                        f"duplicate rule name '{rule.name}'",
                        "rule names are unique in a dimension",
                    )
                )
            names.add(rule.name)
            kinds = [k for k in ("when", "event", "events") if getattr(rule, k) is not None]
            if len(kinds) != 1:
                problems.append(
                    doc.problem(
                        rpath,
                        "a rule needs exactly one of 'when' (profile), 'event' (per event) or 'events' (a count)",
                        "profile rules use when, event rules use event",
                    )
                )
            if rule.event is None:
                for key in (
                    "where", "within_days", "half_life_days", "max_points", "max_count", "points_per",
                ):  # fmt: skip
                    if getattr(rule, key) is not None:
                        problems.append(
                            doc.problem(
                                (*rpath, key),
                                f"'{key}' only applies to event rules",
                                "add 'event: TYPE' or remove it",
                            )
                        )
            elif isinstance(rule.event, list) and not rule.event:
                problems.append(doc.problem((*rpath, "event"), "event needs at least one type"))
            cond(rule.when, (*rpath, "when"))
            cond(rule.where, (*rpath, "where"))
            if rule.events is not None:
                event_count(rule.events, (*rpath, "events"))
            if rule.points_per is not None and rule.max_count is not None:
                problems.append(
                    doc.problem(
                        (*rpath, "points_per"),
                        "points_per cannot be combined with max_count",
                        "cap the points with max_points instead",
                    )
                )
    floors(spec.floors, ("floors",))
    if spec.pql is not None:
        signal_names: set[str] = set()
        for i, sig in enumerate(spec.pql.signals):
            if sig.name in signal_names:
                problems.append(
                    doc.problem(("pql", "signals", i, "name"), f"duplicate name '{sig.name}'")
                )
            signal_names.add(sig.name)
            event_count(sig.events, ("pql", "signals", i, "events"))
        if spec.pql.min_signals > len(spec.pql.signals):
            problems.append(
                doc.problem(
                    ("pql", "min_signals"),
                    f"min_signals {spec.pql.min_signals} is more than the "
                    f"{len(spec.pql.signals)} signals",
                )
            )
        checks(spec.pql.require, ("pql", "require"))
        for i, gate in enumerate(spec.pql.require):
            node, _ = parse_condition(gate.when) if gate.when is not None else (None, [])
            for field, op in _fields_of(node):
                if not field.startswith("score."):
                    continue
                scored = field[len("score.") :]
                if scored != "total" and scored not in spec.dimensions:
                    problems.append(
                        doc.problem(
                            ("pql", "require", i, "when"),
                            f"'{field}' is not a score",
                            "scores: "
                            + ", ".join(f"score.{d}" for d in [*spec.dimensions, "total"]),
                        )
                    )
                elif op not in _SCORE_OPS:
                    problems.append(
                        doc.problem(
                            ("pql", "require", i, "when"),
                            f"'{op}' does not compare a score",
                            "use gt, gte, lt, lte, between, eq, ne, in or not_in with numbers",
                        )
                    )
    checks(spec.require, ("require",))
    checks(spec.disqualify, ("disqualify",))
    seg_names: set[str] = set()
    for i, seg in enumerate(spec.segments):
        spath: PathKey = ("segments", i)
        if seg.name in seg_names or seg.name == "default":
            problems.append(
                doc.problem(
                    (*spath, "name"),
                    f"segment name '{seg.name}' is taken",
                    "'default' is the name of the top level",
                )
            )
        seg_names.add(seg.name)
        cond(seg.when, (*spath, "when"))
        floors(seg.floors, (*spath, "floors"))
        checks(seg.require or [], (*spath, "require"))
        checks(seg.disqualify or [], (*spath, "disqualify"))
    problems.extend(account_problems(spec, doc.problem))
    return problems


_SCORE_OPS = ("gt", "gte", "lt", "lte", "between", "eq", "ne", "in", "not_in", "exists")


def _fields_of(node: Condition | None) -> list[tuple[str, str]]:
    """(field, operator) of every test in a parsed condition."""
    if node is None:
        return []
    if isinstance(node, FieldCondition):
        numeric = node.op not in ("eq", "ne", "in", "not_in") or all(
            isinstance(v, int | float) and not isinstance(v, bool)
            for v in (node.value if isinstance(node.value, list) else [node.value])
        )
        return [(node.field, node.op if numeric else "text " + node.op)]
    if isinstance(node, NotCondition):
        return _fields_of(node.item)
    return [f for item in node.items for f in _fields_of(item)]


def parse_model(text: str, filename: str = "<model>") -> Model:
    """Validate model YAML text; raise ``ModelError`` listing every problem with its location."""
    doc = _Located(text, filename)
    if not isinstance(doc.data, dict):
        raise ModelError(
            [
                Problem(
                    "a model file must be a YAML mapping (name, threshold, dimensions...)",
                    file=filename,
                    line=1,
                )
            ]
        )
    problems = list(doc.duplicates)
    try:
        spec = ModelSpec.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(_pydantic_problem(doc, e) for e in exc.errors())
        raise ModelError(problems) from None
    problems.extend(_semantic_problems(doc, spec))
    if problems:
        raise ModelError(problems)
    return Model(spec=spec, hash=content_hash(spec), source=filename)


def load_model(path: str | Path) -> Model:
    """Load and validate a model file; raise ``ModelError`` naming file, line and column."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelError([Problem("model file not found", file=str(p))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError([Problem(f"cannot read model file: {exc}", file=str(p))]) from None
    return parse_model(text, str(p))


def model_json_schema() -> dict[str, Any]:
    """The JSON Schema of a model file, for editors' autocompletion and validation."""
    schema = ModelSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "leadgate scoring model"
    return schema


def dump_model(spec: BaseModel) -> str:
    """Write a spec back as YAML (used when calibration or fitting writes a new version)."""
    data = spec.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return text
