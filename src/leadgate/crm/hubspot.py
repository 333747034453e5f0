"""HubSpot: contacts batch-upserted by an id property (email by default), read back by search.

Built on ``hubspot-api-client``. Rules kept here:

- At most ``batch_size`` (<= 100) inputs per ``POST /crm/v3/objects/contacts/batch/upsert``, and
  no id twice in one batch (HubSpot refuses a batch with duplicate ids).
- ``lifecyclestage`` only moves forward. Before writing one, the contacts' current stages are
  read (``batch/read``); a later stage is written, an equal one left out, an earlier one left
  out too (sales moved the contact on) unless leadgate recycled the lead (nurture,
  disqualified): then the stage is cleared in a first request and set in a second.
- 429 (Retry-After honoured) and 5xx are transient; other refusals, and the per-contact errors
  of a 207 answer, are permanent for that contact.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from leadgate.crm.fields import LeadValues, Pulled, PushOutcome, mapped
from leadgate.crm.pull_map import outcome_from
from leadgate.crm.settings import CrmError

LIFECYCLE = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)
RECYCLED = ("nurture", "disqualified")  # leadgate stages that may move a contact back


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def retry_after(headers: Any) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form), or None."""
    if not headers:
        return None
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _batches(items: Sequence[tuple[str, Any]], size: int) -> Iterator[list[tuple[str, Any]]]:
    """Chunks of at most ``size`` with no id twice (a repeated id waits for the next chunk)."""
    rest = list(items)
    while rest:
        batch: list[tuple[str, Any]] = []
        seen: set[str] = set()
        later: list[tuple[str, Any]] = []
        for item in rest:
            if len(batch) < size and item[0] not in seen:
                seen.add(item[0])
                batch.append(item)
            else:
                later.append(item)
        yield batch
        rest = later


class HubSpotConnector:
    """Pushes leads to and pulls outcomes from HubSpot contacts."""

    kind = "hubspot"

    def __init__(self, mapping: dict[str, Any], credentials: dict[str, str]) -> None:
        from hubspot import HubSpot

        self.mapping = mapping
        host = credentials.get("host")
        self.client = HubSpot(access_token=credentials["access_token"], host=host or None)

    # -- push -------------------------------------------------------------------------------
    def _id_of(self, values: LeadValues) -> str | None:
        if self.mapping["id_property"] == "email":
            return values.email.lower() if values.email else None
        return values.lead_id

    def properties(self, values: LeadValues) -> dict[str, str]:
        """The contact properties written for a lead (all text, as HubSpot takes them)."""
        stage = self.mapping["stages_out"].get(values.stage)
        return {k: _text(v) for k, v in mapped(values, self.mapping, stage).items()}

    def push(self, leads: Sequence[LeadValues]) -> list[PushOutcome]:
        out: list[PushOutcome] = []
        ready: list[tuple[str, LeadValues]] = []
        for values in leads:
            key = self._id_of(values)
            if key is None:
                out.append(PushOutcome(values.lead_id, ok=False,
                                       error="no email: HubSpot contacts are upserted by email"))  # fmt: skip
            else:
                ready.append((key, values))
        for batch in _batches(ready, int(self.mapping["batch_size"])):
            out.extend(self._push_batch(batch))
        return out

    def _push_batch(self, batch: list[tuple[str, LeadValues]]) -> list[PushOutcome]:
        from hubspot.crm.contacts import ApiException
        from urllib3.exceptions import HTTPError

        stage_prop = self.mapping["fields"].get("stage")
        try:
            props = {key: self.properties(v) for key, v in batch}
            if stage_prop:
                current = self._current_stages([k for k, _ in batch], stage_prop)
                clear = self._plan_stages(batch, props, current, stage_prop)
                if clear:
                    self._upsert({k: {stage_prop: ""} for k in clear}, {})
            return self._upsert(props, {k: v.lead_id for k, v in batch})
        except ApiException as exc:
            status = int(exc.status or 0)
            transient = status == 429 or status >= 500 or status == 0
            error = f"HubSpot answered {status} {exc.reason or ''}".strip()
            wait = retry_after(exc.headers) if status == 429 else None
            return [PushOutcome(v.lead_id, ok=False, error=error, retry=transient,
                                retry_after=wait) for _, v in batch]  # fmt: skip
        except (OSError, HTTPError) as exc:  # connection refused, timeout: try again
            return [PushOutcome(v.lead_id, ok=False, error=f"HubSpot unreachable: {exc}",
                                retry=True) for _, v in batch]  # fmt: skip

    def _plan_stages(
        self,
        batch: list[tuple[str, LeadValues]],
        props: dict[str, dict[str, str]],
        current: dict[str, str],
        stage_prop: str,
    ) -> list[str]:
        """Drop stage writes HubSpot would refuse or that would drag sales back; say which
        contacts need their stage cleared first."""
        clear: list[str] = []
        for key, values in batch:
            new = props[key].get(stage_prop)
            now = current.get(key) or ""
            if new is None or not now:
                continue
            if new == now:
                del props[key][stage_prop]
            elif (
                new in LIFECYCLE
                and now in LIFECYCLE
                and LIFECYCLE.index(new) > LIFECYCLE.index(now)
            ):
                continue
            elif values.stage in RECYCLED:
                clear.append(key)
            else:
                del props[key][stage_prop]
        return clear

    def _current_stages(self, keys: list[str], stage_prop: str) -> dict[str, str]:
        from hubspot.crm.contacts import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        id_prop = self.mapping["id_property"]
        body = BatchReadInputSimplePublicObjectId(
            id_property=id_prop,
            inputs=[SimplePublicObjectId(id=k) for k in keys],
            properties=[id_prop, stage_prop],
            properties_with_history=[],
        )
        answer = self.client.crm.contacts.batch_api.read(
            batch_read_input_simple_public_object_id=body, archived=False
        )
        found: dict[str, str] = {}
        for obj in answer.results or []:
            props = obj.properties or {}
            if props.get(id_prop):
                found[str(props[id_prop]).lower()] = props.get(stage_prop) or ""
        return found

    def _upsert(
        self, props: dict[str, dict[str, str]], lead_ids: dict[str, str]
    ) -> list[PushOutcome]:
        from hubspot.crm.contacts import (
            BatchInputSimplePublicObjectBatchInputUpsert,
            SimplePublicObjectBatchInputUpsert,
        )

        id_prop = self.mapping["id_property"]
        inputs = [
            SimplePublicObjectBatchInputUpsert(
                id_property=id_prop, id=key, properties=p,
                object_write_trace_id=lead_ids.get(key) or key,
            )
            for key, p in props.items()
        ]  # fmt: skip
        answer = self.client.crm.contacts.batch_api.upsert(
            batch_input_simple_public_object_batch_input_upsert=(
                BatchInputSimplePublicObjectBatchInputUpsert(inputs=inputs)
            )
        )
        failed: dict[str, str] = {}
        for err in getattr(answer, "errors", None) or []:
            context = err.context or {}
            for key in context.get("ids", []) or context.get(id_prop, []):
                failed[str(key).lower()] = f"HubSpot refused: {err.message}"
        ids = {
            str((r.properties or {}).get(id_prop, "")).lower(): str(r.id)
            for r in answer.results or []
        }
        out = []
        for key, lead_id in lead_ids.items():
            if key in failed or key not in ids:
                error = failed.get(key, "HubSpot did not return the contact")
                out.append(PushOutcome(lead_id, ok=False, error=error))
            else:
                out.append(PushOutcome(lead_id, ok=True, crm_id=ids[key]))
        return out

    # -- pull -------------------------------------------------------------------------------
    def pull(self, since: datetime | None) -> tuple[list[Pulled], datetime | None]:
        """Contacts changed since ``since`` that carry a leadgate lead id, as sales outcomes.

        Raises:
            CrmError: HubSpot refused or could not be reached (status and reason only).
        """
        from hubspot.crm.contacts import ApiException
        from urllib3.exceptions import HTTPError

        try:
            return self._pull(since)
        except ApiException as exc:
            raise CrmError(
                f"hubspot: search answered {exc.status} {exc.reason or ''}".strip()
            ) from None
        except (OSError, HTTPError) as exc:
            raise CrmError(f"hubspot: unreachable: {type(exc).__name__}") from None

    def _pull(self, since: datetime | None) -> tuple[list[Pulled], datetime | None]:
        from hubspot.crm.contacts import Filter, FilterGroup, PublicObjectSearchRequest

        pull = self.mapping["pull"]
        lead_prop = self.mapping["fields"]["lead_id"]
        wanted = [lead_prop, "lastmodifieddate"] + [
            pull[k] for k in ("status_field", "reason_field", "amount_field", "stage_field")
            if pull.get(k)
        ]  # fmt: skip
        filters = [Filter(property_name=lead_prop, operator="HAS_PROPERTY")]
        if since is not None:
            ms = str(int(since.timestamp() * 1000))
            filters.append(Filter(property_name="lastmodifieddate", operator="GTE", value=ms))
        out: list[Pulled] = []
        newest = since
        after: str | None = None
        while True:
            request = PublicObjectSearchRequest(
                filter_groups=[FilterGroup(filters=filters)], properties=wanted, limit=100,
                after=after, sorts=["lastmodifieddate"],
            )  # fmt: skip
            page = self.client.crm.contacts.search_api.do_search(
                public_object_search_request=request
            )
            for obj in page.results or []:
                props = obj.properties or {}
                if obj.updated_at is not None and (newest is None or obj.updated_at > newest):
                    newest = obj.updated_at
                pulled = outcome_from(self.kind, str(props.get(lead_prop) or ""), props, pull)
                if pulled is not None:
                    out.append(pulled)
            nxt = getattr(getattr(page, "paging", None), "next", None)
            if nxt is None or not nxt.after:
                return out, newest
            after = str(nxt.after)
