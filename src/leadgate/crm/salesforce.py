"""Salesforce: leads upserted by an External ID field, read back by SOQL.

Built on ``simple-salesforce``. Each lead is one
``PATCH /services/data/vXX.X/sobjects/Lead/<ExternalIdField__c>/<lead id>`` (201 created,
200/204 updated); Salesforce answers 300 when the value matches several leads, which is a
permanent failure naming the field (someone must merge the duplicates in Salesforce). 429,
``REQUEST_LIMIT_EXCEEDED`` and 5xx are transient; Retry-After is read from the response through
a hook on the client's ``requests`` session (simple-salesforce's exceptions carry no headers).

Pull reads ``Status``, the rejection reason field and the converted opportunity's stage and
amount (``ConvertedOpportunity.IsClosed/IsWon/Amount``): opportunity created, won or lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from leadgate.crm.fields import LeadValues, Pulled, PushOutcome, mapped
from leadgate.crm.hubspot import retry_after
from leadgate.crm.pull_map import amount_of, outcome_from
from leadgate.crm.settings import CrmError

NOT_PROVIDED = "[not provided]"  # Salesforce's own filler for a required field left empty


def _pinned_session_class() -> type[Any]:
    import requests

    class PinnedSession(requests.Session):
        """A session whose CA bundle wins over REQUESTS_CA_BUNDLE (requests prefers the env)."""

        def merge_environment_settings(self, *args: Any, **kwargs: Any) -> Any:
            out = super().merge_environment_settings(*args, **kwargs)
            out["verify"] = self.verify
            return out

    return PinnedSession


def _pinned_session() -> Any:
    return _pinned_session_class()()


class SalesforceConnector:
    """Pushes leads to and pulls outcomes from Salesforce Lead records."""

    kind = "salesforce"

    def __init__(self, mapping: dict[str, Any], credentials: dict[str, str]) -> None:
        import requests
        from simple_salesforce.exceptions import SalesforceAuthenticationFailed

        self.mapping = mapping
        self._last_retry_after: float | None = None
        session = _pinned_session() if credentials.get("ca_bundle") else requests.Session()
        if credentials.get("ca_bundle"):
            session.verify = credentials["ca_bundle"]
        session.hooks["response"].append(self._remember_retry_after)
        version = str(mapping["api_version"])
        self.sf: Any
        try:
            self._login(credentials, version, session)
        except SalesforceAuthenticationFailed:
            raise CrmError(
                "salesforce: login refused (check the username, password and security token)"
            ) from None

    def _login(self, credentials: dict[str, str], version: str, session: Any) -> None:
        from simple_salesforce.api import Salesforce

        if credentials.get("session_id") and credentials.get("instance_url"):
            self.sf = Salesforce(instance_url=credentials["instance_url"],
                                 session_id=credentials["session_id"], version=version,
                                 session=session)  # fmt: skip
        else:
            self.sf = Salesforce(username=credentials["username"],
                                 password=credentials["password"],
                                 security_token=credentials["security_token"],
                                 domain=credentials.get("domain") or None, version=version,
                                 session=session)  # fmt: skip

    def _remember_retry_after(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self._last_retry_after = (
            retry_after(response.headers) if response.status_code == 429 else None
        )

    def properties(self, values: LeadValues) -> dict[str, Any]:
        """The Lead fields written for a lead (the external id travels in the URL)."""
        stage = self.mapping["stages_out"].get(values.stage)
        fields = mapped(values, self.mapping, stage)
        names = self.mapping["fields"]
        for meaning in ("last_name", "company"):
            if names.get(meaning):
                fields.setdefault(names[meaning], NOT_PROVIDED)
        return fields

    def push(self, leads: Sequence[LeadValues]) -> list[PushOutcome]:
        return [self._push_one(values) for values in leads]

    def _push_one(self, values: LeadValues) -> PushOutcome:
        from simple_salesforce.exceptions import SalesforceError, SalesforceMoreThanOneRecord

        field = self.mapping["external_id_field"]
        try:
            response = self.sf.Lead.upsert(
                f"{field}/{values.lead_id}", self.properties(values), raw_response=True
            )
        except SalesforceMoreThanOneRecord:
            return PushOutcome(values.lead_id, ok=False,
                               error=f"several Salesforce leads have {field} = {values.lead_id}: "
                               "merge them in Salesforce, then retry")  # fmt: skip
        except SalesforceError as exc:
            status = int(exc.status or 0)
            limit = "REQUEST_LIMIT_EXCEEDED" in str(exc.content)
            transient = status in (0, 429) or status >= 500 or limit
            return PushOutcome(values.lead_id, ok=False,
                               error=f"Salesforce answered {status}: {_message(exc.content)}",
                               retry=transient, retry_after=self._last_retry_after)  # fmt: skip
        except OSError as exc:
            return PushOutcome(values.lead_id, ok=False,
                               error=f"Salesforce unreachable: {exc}", retry=True)  # fmt: skip
        crm_id = None
        if response.content:
            try:
                crm_id = response.json().get("id")
            except ValueError:
                crm_id = None
        return PushOutcome(values.lead_id, ok=True, crm_id=crm_id)

    def pull(self, since: datetime | None) -> tuple[list[Pulled], datetime | None]:
        """Leads changed since ``since`` that carry a leadgate id, as sales outcomes.

        Raises:
            CrmError: Salesforce refused or could not be reached (status and message only).
        """
        from simple_salesforce.exceptions import SalesforceError

        try:
            return self._pull(since)
        except SalesforceError as exc:
            raise CrmError(
                f"salesforce: query answered {exc.status}: {_message(exc.content)}"
            ) from None
        except OSError as exc:
            raise CrmError(f"salesforce: unreachable: {type(exc).__name__}") from None

    def _pull(self, since: datetime | None) -> tuple[list[Pulled], datetime | None]:
        pull = self.mapping["pull"]
        field = self.mapping["external_id_field"]
        cols = [field, "SystemModstamp", "IsConverted", "ConvertedOpportunity.IsClosed",
                "ConvertedOpportunity.IsWon", "ConvertedOpportunity.Amount"]  # fmt: skip
        cols += [pull[k] for k in ("status_field", "reason_field") if pull.get(k)]
        where = f"{field} != null"
        if since is not None:
            where += f" AND SystemModstamp >= {since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        soql = f"SELECT {', '.join(dict.fromkeys(cols))} FROM Lead WHERE {where} ORDER BY SystemModstamp"
        answer = self.sf.query_all(soql)
        out: list[Pulled] = []
        newest = since
        for rec in answer.get("records", []):
            stamp = _parse_time(rec.get("SystemModstamp"))
            if stamp is not None and (newest is None or stamp > newest):
                newest = stamp
            opp = rec.get("ConvertedOpportunity") or None
            extra = None
            if opp:
                action = (
                    ("won" if opp.get("IsWon") else "lost")
                    if opp.get("IsClosed")
                    else "opportunity"
                )
                extra = (action, amount_of(opp.get("Amount")))
            pulled = outcome_from(self.kind, str(rec.get(field) or ""), rec, pull, extra)
            if pulled is not None:
                out.append(pulled)
        return out, newest


def _message(content: Any) -> str:
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("message") or content[0].get("errorCode") or content[0])
    return str(content)[:200]


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]  # Salesforce writes +0000
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
