"""What one lead looks like to a CRM: the values leadgate pushes, by meaning, and the
connector-neutral shapes of push results and pulled sales outcomes.

``lead_values`` reads a lead's stored state (score record, current MQL cycle, live explanation
for the top reasons) once; each connector's ``properties`` turns those values into its own field
names through the mapping, so dry runs and real pushes write the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, select

from leadgate.store.history import LeadRow
from leadgate.store.schema import mql_cycles

TOP_REASONS = 3


@dataclass(frozen=True)
class LeadValues:
    """A lead's values to push, by meaning (the mapping's ``fields`` keys)."""

    lead_id: str
    email: str | None
    stage: str
    total: float | None
    dimensions: dict[str, float]
    mql: bool
    mql_at: datetime | None
    model_version: str | None
    reasons: str
    first_name: str | None
    last_name: str | None
    company: str | None


@dataclass(frozen=True)
class PushOutcome:
    """What the CRM said about one lead: written (with its id), retry later, or refused."""

    lead_id: str
    ok: bool
    crm_id: str | None = None
    error: str | None = None
    retry: bool = False  # a transient failure (429, 5xx, network): try again after a delay
    retry_after: float | None = None  # seconds the CRM asked us to wait (Retry-After)


@dataclass(frozen=True)
class Pulled:
    """A sales outcome read from the CRM for one lead: the furthest action it implies."""

    lead_id: str
    action: str
    reason: str | None = None
    note: str | None = None
    amount: float | None = None
    source: dict[str, Any] = field(default_factory=dict)  # the CRM values it came from


def _attr(lead: LeadRow, *names: str) -> str | None:
    for name in names:
        value = lead.attrs.get(name)
        if value not in (None, ""):
            return str(value)
    return None


def top_reasons(explanation: dict[str, Any] | None, n: int = TOP_REASONS) -> str:
    """The rules that gave the most points, as text: ``Demo request (+30); VP title (+20)``."""
    if not explanation:
        return ""
    rules = [r for r in explanation.get("rules", []) if r.get("matched") and r.get("points")]
    rules.sort(key=lambda r: (-abs(float(r["points"])), str(r["name"])))
    return "; ".join(f"{r['name']} ({float(r['points']):+g})" for r in rules[:n])


def lead_values(conn: Connection, lead: LeadRow, explanation: dict[str, Any] | None) -> LeadValues:
    """The values to push for ``lead``; ``explanation`` is its live score's (for the reasons)."""
    record = lead.score or {}
    mql_at = None
    if lead.cycle:
        c = mql_cycles.c
        mql_at = conn.execute(
            select(c.mql_at).where(and_(c.lead_id == lead.lead_id, c.cycle == lead.cycle))
        ).scalar()
    model = record.get("model") or {}
    return LeadValues(
        lead_id=lead.lead_id,
        email=lead.email,
        stage=lead.stage,
        total=lead.score_total,
        dimensions={str(k): float(v) for k, v in (record.get("scores") or {}).items()},
        mql=bool(lead.qualifies),
        mql_at=mql_at,
        model_version=f"{model['name']}@{model['version']}" if model else None,
        reasons=top_reasons(explanation),
        first_name=_attr(lead, "first_name", "firstname"),
        last_name=_attr(lead, "last_name", "lastname"),
        company=_attr(lead, "company", "company_name"),
    )


def mapped(values: LeadValues, mapping: dict[str, Any], stage_value: str | None) -> dict[str, Any]:
    """The CRM fields for ``values`` under ``mapping['fields']`` (names mapped to null skipped).

    Values stay typed (number, bool, ISO time text); a connector converts them to what its API
    wants. ``stage_value`` is the CRM stage to write, or None to leave the CRM's stage alone.
    """
    names: dict[str, str | None] = mapping["fields"]
    out: dict[str, Any] = {}

    def put(meaning: str, value: Any) -> None:
        name = names.get(meaning)
        if name and value is not None:
            out[name] = value

    put("lead_id", values.lead_id)
    put("email", values.email)
    put("score", values.total)
    template = names.get("dimension")
    if template:
        for dim, score in sorted(values.dimensions.items()):
            out[template.replace("{dimension}", dim)] = score
    put("mql", values.mql)
    put("mql_at", values.mql_at.isoformat().replace("+00:00", "Z") if values.mql_at else None)
    put("model_version", values.model_version)
    put("reasons", values.reasons or None)
    put("first_name", values.first_name)
    put("last_name", values.last_name)
    put("company", values.company)
    put("stage", stage_value)
    return out
