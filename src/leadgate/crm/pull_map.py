"""Turning a CRM record's sales fields into one leadgate sales action (the furthest it implies).

Both connectors read a lead status (``status_in``), HubSpot also a lifecycle stage
(``stages_in``) and Salesforce the converted opportunity; each maps to an action of
``lifecycle.dispositions``. The furthest wins: a contact marked ``customer`` whose lead status
still says ``IN_PROGRESS`` is a won deal. ``sync.apply_pulled`` then walks the lead there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from leadgate.crm.fields import Pulled

# How far along the funnel an action puts a lead (the furthest candidate is applied).
RANK = {"touch": 0, "accept": 1, "reject": 2, "sql": 2, "opportunity": 3, "lost": 4, "won": 4}
WITH_AMOUNT = ("opportunity", "won", "lost")


def amount_of(value: Any) -> float | None:
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return None
    return amount if math.isfinite(amount) and amount >= 0 else None


def outcome_from(
    kind: str,
    lead_id: str,
    record: Mapping[str, Any],
    pull: Mapping[str, Any],
    extra: tuple[str, float | None] | None = None,
) -> Pulled | None:
    """The action ``record`` implies, or None (no lead id, or nothing mapped).

    ``extra`` is a further candidate action with its amount (Salesforce's opportunity).
    """
    if not lead_id:
        return None
    candidates: list[tuple[str, float | None]] = []
    status = record.get(pull.get("status_field") or "")
    if status and status in pull["status_in"]:
        candidates.append((pull["status_in"][status], None))
    stage = record.get(pull.get("stage_field") or "")
    if stage and stage in pull.get("stages_in", {}):
        candidates.append((pull["stages_in"][stage], None))
    if extra is not None:
        candidates.append(extra)
    candidates = [c for c in candidates if c[0] in RANK]
    if not candidates:
        return None
    action, amount = max(candidates, key=lambda c: RANK[c[0]])
    if action in WITH_AMOUNT and amount is None and pull.get("amount_field"):
        amount = amount_of(record.get(pull["amount_field"]))
    reason = note = None
    if action == "reject":
        raw = record.get(pull.get("reason_field") or "")
        reason = str(pull["reasons_in"].get(raw, raw)) if raw else None
        note = f"{kind}: {raw or status}"
    source = {k: record.get(k) for k in (pull.get("status_field"), pull.get("stage_field")) if k}
    return Pulled(lead_id, action, reason=reason, note=note,
                  amount=amount if action in WITH_AMOUNT else None, source=source)  # fmt: skip
