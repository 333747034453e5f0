"""The funnel frame: one row per MQL cycle, plus one row per lead that never became an MQL.

Every report reads this frame and nothing else, so the same numbers come out whether the history
came from files (``leads.csv`` + ``outcomes.csv``, as written by ``leadgate synth`` or exported
from a CRM) or from the store (``report/store_frame.py``: MQL cycles, transitions, dispositions).

Columns (``FRAME_COLUMNS``): who the lead is (``lead_id``, ``channel``, ``segment``, ``persona``,
``region``, ``industry``, ``company_size``, ``created_at``), which model made it an MQL
(``model_version``, ``model_hash``) and what happened after (``mql_time``, ``sal_status``,
``sal_time``, ``reject_reason``, ``first_touch_time``, ``sql_time``, ``opportunity_time``,
``outcome``, ``amount``, ``closed_time``), plus derived columns ``cohort`` (month of MQL),
``lead_cohort`` (month the lead was created) and the stage flags ``is_mql``, ``sal``, ``sql``,
``opp``, ``won``, ``lost`` (each implied by the later ones: a won deal reached SQL even if the
SQL time was not recorded).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from leadgate.errors import IngestError, LeadgateError, OptionError
from leadgate.io import read_leads, read_table
from leadgate.io.readers import parse_timestamp
from leadgate.lifecycle.sla import DEFAULT_SLA_HOURS
from leadgate.lifecycle.stages import MQL

TIME_COLUMNS = (
    "created_at",
    "mql_time",
    "sal_time",
    "first_touch_time",
    "sql_time",
    "opportunity_time",
    "closed_time",
)
FRAME_COLUMNS = (
    "lead_id",
    "cycle",
    "created_at",
    "channel",
    "segment",
    "persona",
    "region",
    "industry",
    "company_size",
    "model_version",
    "model_hash",
    "mql_time",
    "sla_hours",
    "sal_status",
    "sal_time",
    "reject_reason",
    "first_touch_time",
    "sql_time",
    "opportunity_time",
    "outcome",
    "amount",
    "closed_time",
    "qualified_by",
)
# Dimensions a report can group by (``--by``), and the frame column each one reads.
GROUPS = {
    "channel": "channel",
    "source": "channel",
    "segment": "segment",
    "persona": "persona",
    "region": "region",
    "industry": "industry",
    "cohort": "cohort",
    "model_version": "model_version",
    "model": "model_version",
    "qualified_by": "qualified_by",
    "qualification": "qualified_by",
}
UNKNOWN = "unknown"
NO_QUALIFICATION = "none"

# Persona bands from the lead's seniority (when the source has it) or its title. Title patterns
# are tried in order: "VP of Engineering Operations" is a VP, not an engineer.
_SENIORITY_PERSONA = {
    "c_level": "executive",
    "executive": "executive",
    "founder": "executive",
    "vp": "vp/director",
    "director": "vp/director",
    "head_of": "vp/director",
    "manager": "manager",
    "individual_contributor": "individual contributor",
    "intern": "student/intern",
    "student": "student/intern",
}
_TITLE_PERSONA = (
    (re.compile(r"\b(intern|student|undergraduate|phd|mba candidate)\b", re.I), "student/intern"),
    (re.compile(r"\b(chief|ceo|cto|coo|cfo|cmo|cro|founder|co-founder|president|owner)\b", re.I),
     "executive"),
    (re.compile(r"\b(vp|svp|evp|vice president|director|head of)\b", re.I), "vp/director"),
    (re.compile(r"\b(manager|team lead|lead)\b", re.I), "manager"),
)  # fmt: skip


def persona_of(title: Any, seniority: Any = None) -> str:
    """The title band of a lead: executive, vp/director, manager, individual contributor,
    student/intern, or unknown (no title and no seniority)."""
    if isinstance(seniority, str) and seniority.strip():
        key = seniority.strip().lower().replace(" ", "_").replace("-", "_")
        if key in _SENIORITY_PERSONA:
            return _SENIORITY_PERSONA[key]
    if not isinstance(title, str) or not title.strip():
        return UNKNOWN
    for pattern, band in _TITLE_PERSONA:
        if pattern.search(title):
            return band
    return "individual contributor"


def size_segment(company_size: Any) -> str:
    """The segment of a lead when no model says otherwise: company-size bands."""
    try:
        size = float(company_size)
    except (TypeError, ValueError):
        return UNKNOWN
    if size != size:  # NaN
        return UNKNOWN
    if size >= 5000:
        return "enterprise"
    return "mid_market" if size >= 200 else "smb"


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _num(value: Any, file: str, line: int, field: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise IngestError(
            f"expected a number, got {value!r}", file=file, line=line, field=field
        ) from None


OUTCOME_VALUES = {"won", "lost", "open"}
SAL_VALUES = {"accepted", "rejected"}


def read_outcomes(path: str | Path) -> list[dict[str, Any]]:
    """Read an outcomes file (one row per MQL handed to sales), validating every row.

    Required: ``lead_id``, ``mql_time``. Optional: ``sal_status`` (accepted|rejected),
    ``sal_time``, ``reject_reason``, ``first_touch_time``, ``sql_time``, ``opportunity_time``,
    ``amount``, ``closed_time``, ``outcome`` (won|lost|open), ``model_version``, ``model_hash``,
    ``segment``, ``sla_hours``.
    """
    file = str(path)
    rows: list[dict[str, Any]] = []
    for line, raw in read_table(path):
        lead_id = _text(raw.get("lead_id"))
        if lead_id is None:
            raise IngestError("missing lead_id", file=file, line=line, field="lead_id")
        row: dict[str, Any] = {"lead_id": lead_id}
        if _text(raw.get("mql_time")) is None and not isinstance(raw.get("mql_time"), datetime):
            raise IngestError("missing mql_time", file=file, line=line, field="mql_time")
        for col in TIME_COLUMNS[1:]:
            value = raw.get(col)
            row[col] = None if value in (None, "") else parse_timestamp(value, file, line, col)
        sal = (_text(raw.get("sal_status")) or "").lower() or None
        if sal is not None and sal not in SAL_VALUES:
            raise IngestError(
                f"expected accepted or rejected, got {sal!r}",
                file=file,
                line=line,
                field="sal_status",
            )
        outcome = (_text(raw.get("outcome")) or "").lower() or None
        if outcome is not None and outcome not in OUTCOME_VALUES:
            raise IngestError(
                f"expected won, lost or open, got {outcome!r}",
                file=file,
                line=line,
                field="outcome",
            )
        row.update(
            sal_status=sal,
            outcome=outcome,
            reject_reason=_text(raw.get("reject_reason")),
            amount=_num(raw.get("amount"), file, line, "amount"),
            sla_hours=_num(raw.get("sla_hours"), file, line, "sla_hours"),
            model_version=_text(raw.get("model_version")),
            model_hash=_text(raw.get("model_hash")),
            segment=_text(raw.get("segment")),
        )
        rows.append(row)
    return rows


def lead_attributes(profile: Mapping[str, Any]) -> dict[str, Any]:
    """The reporting dimensions of a lead profile (as read by ``leadgate.io.read_leads``)."""

    def pick(*keys: str) -> Any:
        for key in keys:
            value = profile.get(key)
            if value not in (None, ""):
                return value
        return None

    size = pick("company_size", "account.company_size")
    created = pick("created_at")
    return {
        "lead_id": str(profile["lead_id"]),
        "created_at": parse_timestamp(created, field="created_at") if created is not None else None,
        "channel": _text(pick("source", "channel", "lead_source")) or UNKNOWN,
        "segment": _text(pick("segment")) or size_segment(size),
        "persona": persona_of(pick("title"), pick("seniority")),
        "region": _text(pick("region", "account.region")) or UNKNOWN,
        "industry": _text(pick("industry", "account.industry")) or UNKNOWN,
        "company_size": float(size) if isinstance(size, int | float) else None,
    }


def build_frame(
    leads: Iterable[Mapping[str, Any]],
    cycles: Iterable[Mapping[str, Any]],
    *,
    model_version: str = UNKNOWN,
    sla_hours: float = DEFAULT_SLA_HOURS,
) -> pd.DataFrame:
    """The funnel frame from lead attributes and MQL cycles (the neutral input of every report).

    Args:
        leads: one mapping per lead with the keys of ``lead_attributes`` (extra keys ignored).
        cycles: one mapping per MQL cycle: ``lead_id``, ``mql_time`` and whatever of the outcome
            columns is known; an optional ``cycle`` number, ``model_version``/``model_hash`` and
            ``segment`` (the model's segment, which then overrides the lead's).
        model_version: the version label of cycles that do not name one (files often do not).
        sla_hours: the speed-to-lead SLA of cycles that do not carry one.
    """
    by_lead = {str(lead["lead_id"]): dict(lead) for lead in leads}
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    ordered = sorted(cycles, key=lambda c: (str(c["lead_id"]), c["mql_time"]))
    counters: dict[str, int] = {}
    for c in ordered:
        lead_id = str(c["lead_id"])
        base = by_lead.get(lead_id)
        if base is None:
            raise LeadgateError(f"outcome for lead '{lead_id}' which is not among the leads")
        counters[lead_id] = counters.get(lead_id, 0) + 1
        row = {col: base.get(col) for col in FRAME_COLUMNS}
        for col in FRAME_COLUMNS:
            if col in c and c[col] is not None and col not in ("lead_id",):
                row[col] = c[col]
        row["cycle"] = int(c.get("cycle") or counters[lead_id])
        row["model_version"] = c.get("model_version") or model_version
        row["sla_hours"] = float(c.get("sla_hours") or sla_hours)
        rows.append(row)
        seen.add(lead_id)
    for lead_id, base in by_lead.items():
        if lead_id in seen:
            continue
        row = {col: base.get(col) for col in FRAME_COLUMNS}
        row["cycle"] = 0
        row["model_version"] = base.get("model_version") or model_version
        rows.append(row)
    return finish_frame(pd.DataFrame(rows, columns=list(FRAME_COLUMNS)))


def finish_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Normalise types and add the derived columns (cohorts, stage flags)."""
    out = frame.copy()
    for col in TIME_COLUMNS:
        out[col] = pd.to_datetime(out[col], utc=True)
    for col in ("amount", "company_size", "sla_hours"):
        out[col] = pd.to_numeric(out[col], errors="coerce")
    for col in ("channel", "segment", "persona", "region", "industry", "model_version"):
        out[col] = out[col].fillna(UNKNOWN).astype(str)
    out["cycle"] = out["cycle"].fillna(0).astype(int)
    # What qualified a hand-off: mql, pql or mql+pql (a cycle that does not say: an MQL); a
    # lead never handed off has none.
    has_cycle = out["mql_time"].notna()
    out["qualified_by"] = out["qualified_by"].where(out["qualified_by"].notna(), None)
    out.loc[has_cycle & out["qualified_by"].isna(), "qualified_by"] = MQL
    out["qualified_by"] = out["qualified_by"].fillna(NO_QUALIFICATION).astype(str)
    # Months as "YYYY-MM" text: sortable, readable, the same in every output format.
    out["cohort"] = _month(out["mql_time"])
    out["lead_cohort"] = _month(out["created_at"])
    won = out["outcome"].eq("won")
    lost = out["outcome"].eq("lost")
    opp = out["opportunity_time"].notna() | won
    sql = out["sql_time"].notna() | opp
    sal = out["sal_status"].eq("accepted") | sql
    out["is_mql"] = out["mql_time"].notna()
    out["sal"] = sal & out["is_mql"]
    out["sql"] = sql & out["is_mql"]
    out["opp"] = opp & out["is_mql"]
    out["won"] = won & out["is_mql"]
    out["lost"] = lost & out["is_mql"]
    return out.reset_index(drop=True)


def _month(series: pd.Series) -> pd.Series:
    text = series.dt.strftime("%Y-%m")
    return text.where(series.notna(), None)


def frame_from_files(
    leads: str | Path,
    outcomes: str | Path,
    *,
    accounts: str | Path | None = None,
    model_version: str = UNKNOWN,
    sla_hours: float = DEFAULT_SLA_HOURS,
) -> pd.DataFrame:
    """The funnel frame from a leads file and an outcomes file (plus accounts, joined)."""
    profiles = read_leads(leads, accounts)
    cycles = read_outcomes(outcomes)
    known = {str(p["lead_id"]) for p in profiles}
    for i, c in enumerate(cycles):
        if c["lead_id"] not in known:
            raise IngestError(
                f"lead '{c['lead_id']}' is not in {leads}", file=str(outcomes), line=i + 2,
                field="lead_id",
            )  # fmt: skip
    return build_frame(
        [lead_attributes(p) for p in profiles],
        cycles,
        model_version=model_version,
        sla_hours=sla_hours,
    )


def select(
    frame: pd.DataFrame,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    column: str = "mql_time",
) -> pd.DataFrame:
    """Rows whose ``column`` time lies in ``[since, until)``; rows without that time are kept
    only when no window is given."""
    mask = pd.Series(True, index=frame.index)
    if since is not None:
        mask &= frame[column] >= pd.Timestamp(since)
    if until is not None:
        mask &= frame[column] < pd.Timestamp(until)
    return frame[mask]


def group_columns(by: Iterable[str]) -> list[str]:
    """Frame columns for ``--by`` names; raises a one-line error naming the allowed ones."""
    cols: list[str] = []
    for name in by:
        key = name.strip().lower().replace("-", "_")
        if not key:
            continue
        if key not in GROUPS:
            allowed = ", ".join(sorted(set(GROUPS) - {"source", "model"}))
            raise OptionError("by", f"unknown dimension '{name}' (choose from {allowed})")
        if GROUPS[key] not in cols:
            cols.append(GROUPS[key])
    return cols
