"""Model versions in the store: publish (with a dry run), list, diff, and the active model.

Every published model is kept with its YAML text, hash, name/version, who published it and when
(append-only). The newest row is the active model. Publishing re-scores every lead under the new
version in the same transaction and records the resulting transitions with cause
``model_change``, so a failure leaves the previous model and every lead untouched.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from leadgate.engine import compile_model
from leadgate.errors import LeadgateError, NotFoundError
from leadgate.lifecycle.stages import Cause
from leadgate.model import Model, parse_model
from leadgate.model.loader import load_model
from leadgate.service.rescore import ActiveModel, Progress, parsed_model, rescore
from leadgate.service.shapes import (
    LeadChange,
    ModelDiff,
    ModelVersionView,
    PublishReport,
    RescoreSummary,
)
from leadgate.service.timeline import forward_as_of
from leadgate.store.audit import Actor, record_audit
from leadgate.store.db import Store
from leadgate.store.driver_sql import run
from leadgate.store.ingest import lock_leads_table
from leadgate.store.schema import leads, model_versions


def _plan_for(store: Store | None, row: Any) -> ActiveModel:
    cache = store.cache if store is not None else {}
    key = f"plan:{row.hash}"
    if key not in cache:
        cache[key] = compile_model(
            parsed_model(row.hash, row.yaml, f"model {row.name} {row.version}")
        )
    return ActiveModel(row.id, row.name, row.version, row.hash, cache[key], row.yaml)


def active_model(conn: Connection, store: Store | None = None) -> ActiveModel | None:
    """The published model in use (the newest version), or ``None`` before the first publish."""
    row = conn.execute(select(model_versions).order_by(model_versions.c.id.desc()).limit(1)).first()
    return None if row is None else _plan_for(store, row)


def live_model(conn: Connection, store: Store) -> ActiveModel | None:
    """``active_model`` for the live write path: only the newest version's id is read (a
    published version never changes, so the model is cached by its row id), not its YAML."""
    newest = run(conn, "SELECT max(id) FROM model_versions").rows[0][0]
    if newest is None:
        return None
    key = f"model:{newest}"
    if key not in store.cache:
        store.cache[key] = active_model(conn, store)
    model: ActiveModel | None = store.cache[key]
    return model if model is not None and model.id == newest else active_model(conn, store)


def read_model_source(source: str | Path) -> tuple[Model, str]:
    """A model and its YAML text, from a ``Path`` or from YAML text (an API body).

    Only a ``Path`` is read from disk: text is never taken for a file name, so an API body cannot
    make the server read its own files.

    Raises:
        ModelError: unreadable file or invalid model, located by file, line and column.
    """
    if isinstance(source, Path):
        model = load_model(source)
        return model, source.read_text(encoding="utf-8")
    return parse_model(source, "<published model>"), source


def publish_model(
    store: Store,
    source: str | Path,
    *,
    actor: str,
    as_of: datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
    engine: str = "auto",
    note: str | None = None,
    by: Actor | None = None,
    force: bool = False,
    pinned: bool = True,
) -> PublishReport:
    """Publish a model version: re-score every lead under it and record the transitions.

    ``source`` is a ``Path`` or YAML text. With ``dry_run`` nothing is written; the report says how
    many leads would change status. Publishing the version already active changes nothing.
    ``engine`` picks the re-scoring path (``auto``, ``python``, ``duckdb``; see
    ``service.rescore``). ``note`` is the change note kept with the version. The publish is
    audited as ``by`` (default: ``actor``).

    Raises:
        ModelError: the model is invalid (with file, line and column).
        VersionLabelError: another model of this name was published under this version label.
        HistoryBackwardsError: a ``pinned`` ``as_of`` is before the store's latest scoring
            (unless ``force``); an unpinned one moves up to it (``timeline.forward_as_of``).
    """
    model, text = read_model_source(source)
    identity = model.identity()
    ctx = store.read() if dry_run else store.write()
    with ctx as conn:
        if not dry_run:
            # Writers wait until the publish commits, so none is overwritten by the publish's
            # scores and none scores with the model it replaces (store.ingest.LEAD_TABLE_LOCKS).
            lock_leads_table(conn, "rescore")
        current = active_model(conn, store)
        previous = current.identity() if current else None
        if current is not None and current.hash == model.hash:
            return PublishReport(
                model=identity, previous=previous, dry_run=dry_run, summary=RescoreSummary()
            )
        _check_label(conn, model)
        if not dry_run:
            as_of = forward_as_of(conn, as_of, pinned=pinned, force=force)
        new_id = (conn.execute(select(func.max(model_versions.c.id))).scalar() or 0) + 1
        plan = store.cache.setdefault(f"plan:{model.hash}", compile_model(model))
        candidate = ActiveModel(new_id, model.name, model.version, model.hash, plan, text)
        examples: list[LeadChange] = []
        summary = rescore(
            conn,
            candidate,
            None,
            as_of,
            cause=Cause.MODEL_CHANGE,
            actor=actor,
            apply=not dry_run,
            examples=examples,
            progress=progress,
            engine=engine,
        )
        if not dry_run:
            conn.execute(
                model_versions.insert().values(
                    name=model.name,
                    version=model.version,
                    hash=model.hash,
                    yaml=text,
                    published_by=actor,
                    published_at=as_of,
                    summary=summary.model_dump(),
                    note=note.strip() or None if note else None,
                )
            )
            record_audit(
                conn, by or Actor(actor), "model.publish", at=as_of,
                target=f"{model.name} {model.version}",
                details={**identity, "previous": previous, "new_mqls": summary.new_mqls,
                         "scored": summary.scored},
            )  # fmt: skip
    if not dry_run:
        # Accounts follow their leads (issue #15); imported here: service.accounts reads models.
        from leadgate.service.accounts import rescore_accounts_if_any

        rescore_accounts_if_any(store, as_of)
    return PublishReport(
        model=identity, previous=previous, dry_run=dry_run, summary=summary, examples=examples
    )


class VersionLabelError(LeadgateError):
    """Raised when a model is published under a version label its name already has, with
    other content: later commands that name the label would pick one of the two silently."""


def _check_label(conn: Connection, model: Model) -> None:
    """The same label with the same content is a re-publish (a rollback); other content is not."""
    mv = model_versions.c
    other = conn.execute(
        select(mv.hash).where(
            mv.name == model.name, mv.version == model.version, mv.hash != model.hash
        )
    ).first()
    if other is not None:
        raise VersionLabelError(
            f"{model.name} version {model.version!r} is already published with other content "
            f"({other.hash[:12]}; this one is {model.hash[:12]}): give the new model a new "
            "version label"
        )


def _view(row: Any, active_id: int | None) -> ModelVersionView:
    return ModelVersionView(
        id=row.id,
        name=row.name,
        version=row.version,
        hash=row.hash,
        published_by=row.published_by,
        published_at=row.published_at,
        active=row.id == active_id,
        summary=row.summary or {},
        note=row.note,
    )


def list_models(store: Store) -> list[ModelVersionView]:
    """Every published model version, oldest first; the newest is active."""
    with store.read() as conn:
        rows = conn.execute(select(model_versions).order_by(model_versions.c.id)).all()
    active_id = rows[-1].id if rows else None
    return [_view(r, active_id) for r in rows]


def find_model(conn: Connection, ref: str) -> Any:
    """A model_versions row by id (``3``), hash or hash prefix, or version label (newest wins)."""
    q = select(model_versions).order_by(model_versions.c.id.desc())
    rows = conn.execute(q).all()
    ref = ref.strip()
    tests: list[Callable[[Any], bool]] = [
        lambda r: ref.isascii() and ref.isdigit() and r.id == int(ref),
        lambda r: r.hash == ref,
        lambda r: len(ref) >= 6 and r.hash.startswith(ref),
        lambda r: r.version == ref,
    ]
    for test in tests:  # most specific first
        hits = [r for r in rows if test(r)]
        if hits:
            return hits[0]
    raise NotFoundError(
        f"no published model '{ref}' (use an id, a hash prefix or a version; see `leadgate models list`)"
    )


def model_yaml(store: Store, ref: str) -> str:
    """The YAML text of a published version (id, hash or hash prefix, or version label)."""
    with store.read() as conn:
        return str(find_model(conn, ref).yaml)


def diff_models(store: Store, a: str, b: str) -> ModelDiff:
    """Compare two published versions: spec-level changes and the YAML text diff."""
    with store.read() as conn:
        ra, rb = find_model(conn, a), find_model(conn, b)
        active_id = conn.execute(select(func.max(model_versions.c.id))).scalar()
    ma = parse_model(ra.yaml, f"model {ra.id}").spec.model_dump(mode="json")
    mb = parse_model(rb.yaml, f"model {rb.id}").spec.model_dump(mode="json")
    text = "".join(
        difflib.unified_diff(
            ra.yaml.splitlines(keepends=True),
            rb.yaml.splitlines(keepends=True),
            fromfile=f"{ra.name} {ra.version} ({ra.hash[:12]})",
            tofile=f"{rb.name} {rb.version} ({rb.hash[:12]})",
        )
    )
    return ModelDiff(
        a=_view(ra, active_id), b=_view(rb, active_id), changes=spec_changes(ma, mb), yaml_diff=text
    )


def spec_changes(a: Any, b: Any, path: str = "") -> list[str]:
    """Human-readable differences between two model specs (dumped to JSON-like data).

    Lists of named items (rules, gates, segments) are matched by name, so a reordered or edited
    rule reads as "changed", not as a removal and an addition.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for key in list(a) + [k for k in b if k not in a]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in b:
                out.append(f"removed {sub}")
            elif key not in a:
                out.append(f"added {sub}: {_short(b[key])}")
            else:
                out.extend(spec_changes(a[key], b[key], sub))
        return out
    if _named_list(a) and _named_list(b):
        by_a = {item["name"]: item for item in a}
        by_b = {item["name"]: item for item in b}
        out = []
        for name in list(by_a) + [n for n in by_b if n not in by_a]:
            sub = f"{path}[{name}]"
            if name not in by_b:
                out.append(f"removed {sub}")
            elif name not in by_a:
                out.append(f"added {sub}: {_short(by_b[name])}")
            else:
                out.extend(spec_changes(by_a[name], by_b[name], sub))
        return out
    if a != b:
        return [f"changed {path}: {_short(a)} -> {_short(b)}"]
    return []


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "name" in v for v in value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def count_leads(conn: Connection) -> int:
    """How many leads the store holds (progress bars size themselves with this)."""
    return int(conn.execute(select(func.count()).select_from(leads)).scalar() or 0)
