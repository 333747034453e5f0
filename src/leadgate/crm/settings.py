"""CRM connector settings: the field mapping (YAML over defaults) and where credentials come from.

A connector (``hubspot`` or ``salesforce``) is stored in the ``settings`` table under
``crm.<kind>``: its mapping, the score step and, if given, the *path* of a secrets file. The
credentials themselves are never stored, printed or logged: they are read from the environment
(``LEADGATE_HUBSPOT_TOKEN``; ``LEADGATE_SALESFORCE_INSTANCE_URL`` + ``..._SESSION_ID``, or
``..._USERNAME`` + ``..._PASSWORD`` + ``..._SECURITY_TOKEN``) or from that file when a command
needs them, and error messages name the variable or key that is missing, never a value.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from leadgate.errors import LeadgateError, NotFoundError
from leadgate.store.schema import settings as settings_table
from leadgate.store.settings import get_setting, set_setting

KINDS = ("hubspot", "salesforce")
KEY_PREFIX = "crm."


class CrmError(LeadgateError):
    """A CRM connector is misconfigured or the CRM refused a request for a reason to fix."""


# What leadgate writes, by meaning -> the CRM property/field name. ``dimension`` is a template:
# one property per score dimension. A name mapped to null is not written.
HUBSPOT_DEFAULTS: dict[str, Any] = {
    "id_property": "email",
    "batch_size": 100,  # HubSpot's batch upsert takes at most 100 inputs
    "score_step": 5.0,
    "fields": {
        "lead_id": "leadgate_lead_id",
        "score": "leadgate_score",
        "dimension": "leadgate_score_{dimension}",
        "mql": "leadgate_mql",
        "mql_at": "leadgate_mql_at",
        "model_version": "leadgate_model_version",
        "reasons": "leadgate_top_reasons",
        "stage": "lifecyclestage",
        "first_name": "firstname",
        "last_name": "lastname",
        "company": "company",
    },
    # leadgate stage -> lifecyclestage. Stages after the hand-off belong to sales: not pushed.
    "stages_out": {
        "lead": "lead",
        "mql": "marketingqualifiedlead",
        "nurture": "lead",
        "disqualified": "other",
    },
    # Read back: contact properties -> sales actions.
    "pull": {
        "status_field": "hs_lead_status",
        "reason_field": "leadgate_rejection_reason",
        "amount_field": "recent_deal_amount",
        "status_in": {
            "ATTEMPTED_TO_CONTACT": "touch",
            "IN_PROGRESS": "accept",
            "CONNECTED": "accept",
            "OPEN_DEAL": "opportunity",
            "UNQUALIFIED": "reject",
            "BAD_TIMING": "reject",
        },
        "stage_field": "lifecyclestage",
        "stages_in": {
            "salesqualifiedlead": "sql",
            "opportunity": "opportunity",
            "customer": "won",
            "evangelist": "won",
        },
        "reasons_in": {},  # CRM rejection value -> leadgate reason code (else the same word)
        "default_reason": "other",
    },
}

SALESFORCE_DEFAULTS: dict[str, Any] = {
    "external_id_field": "LeadgateId__c",
    "api_version": "59.0",
    "score_step": 5.0,
    "fields": {
        "email": "Email",
        "score": "Leadgate_Score__c",
        "dimension": "Leadgate_{dimension}_Score__c",
        "mql": "Leadgate_MQL__c",  # Salesforce has no standard MQL field
        "mql_at": "Leadgate_MQL_At__c",
        "model_version": "Leadgate_Model_Version__c",
        "reasons": "Leadgate_Top_Reasons__c",
        "stage": "Status",
        "first_name": "FirstName",
        "last_name": "LastName",  # required on a new Lead: "[not provided]" when unknown
        "company": "Company",  # required on a new Lead: "[not provided]" when unknown
    },
    "stages_out": {"mql": "Open - Not Contacted"},
    "pull": {
        "status_field": "Status",
        "reason_field": "Leadgate_Rejection_Reason__c",
        "status_in": {
            "Working - Contacted": "accept",
            "Closed - Not Converted": "reject",
            "Closed - Converted": "sql",
        },
        "reasons_in": {},
        "default_reason": "other",
    },
}

DEFAULTS = {"hubspot": HUBSPOT_DEFAULTS, "salesforce": SALESFORCE_DEFAULTS}

ENV = {
    "hubspot": {"access_token": "LEADGATE_HUBSPOT_TOKEN", "host": "LEADGATE_HUBSPOT_HOST"},
    "salesforce": {
        "instance_url": "LEADGATE_SALESFORCE_INSTANCE_URL",
        "session_id": "LEADGATE_SALESFORCE_SESSION_ID",
        "username": "LEADGATE_SALESFORCE_USERNAME",
        "password": "LEADGATE_SALESFORCE_PASSWORD",
        "security_token": "LEADGATE_SALESFORCE_SECURITY_TOKEN",
        "domain": "LEADGATE_SALESFORCE_DOMAIN",
        "ca_bundle": "LEADGATE_SALESFORCE_CA_BUNDLE",  # a private CA (proxy, test server)
    },
}


@dataclass(frozen=True)
class Connector:
    """A configured connector: its kind, mapping (defaults merged) and secrets file path."""

    kind: str
    mapping: dict[str, Any]
    secrets_file: str | None

    @property
    def score_step(self) -> float:
        return float(self.mapping["score_step"])

    def credentials(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """The credentials, environment first, then the secrets file (values never shown)."""
        env = os.environ if environ is None else environ
        found: dict[str, str] = {}
        if self.secrets_file:
            found.update(read_secrets(Path(self.secrets_file), self.kind))
        for key, var in ENV[self.kind].items():
            if env.get(var):
                found[key] = env[var]
        need = (
            [("access_token",)]
            if self.kind == "hubspot"
            else [("instance_url", "session_id"), ("username", "password", "security_token")]
        )
        if not any(all(k in found for k in keys) for keys in need):
            names = " or ".join(" + ".join(ENV[self.kind][k] for k in keys) for keys in need)
            raise CrmError(
                f"{self.kind}: no credentials: set {names}"
                + (f", or the matching keys in {self.secrets_file}" if self.secrets_file else "")
            )
        return found


def read_secrets(path: Path, kind: str) -> dict[str, str]:
    """Credentials from a YAML secrets file: ``{kind: {access_token: ...}}`` or flat keys."""
    import yaml

    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CrmError(f"{path}: secrets file not found") from None
    except yaml.YAMLError:
        # The parser's message can quote the file, and the file holds secrets: say where only.
        raise CrmError(f"{path}: secrets file is not valid YAML") from None
    if isinstance(data, dict) and isinstance(data.get(kind), dict):
        data = data[kind]
    if not isinstance(data, dict):
        raise CrmError(f"{path}: secrets file must be a mapping of names to values")
    allowed = set(ENV[kind])
    return {str(k): str(v) for k, v in data.items() if k in allowed and v is not None}


def merge_mapping(
    kind: str, override: Mapping[str, Any], source: str = "<mapping>"
) -> dict[str, Any]:
    """The defaults for ``kind`` with ``override`` laid over them (nested mappings merged).

    Raises:
        CrmError: a key the defaults do not have, or a value of the wrong shape (named).
    """
    if kind not in DEFAULTS:
        raise CrmError(f"unknown CRM '{kind}' (use {', '.join(KINDS)})")
    out = copy.deepcopy(DEFAULTS[kind])
    _merge(out, override, source, "")
    step = out["score_step"]
    if isinstance(step, bool) or not isinstance(step, int | float) or step < 0:
        raise CrmError(f"{source}: score_step: must be a number >= 0, got {step!r}")
    if "batch_size" in out:  # HubSpot batches; Salesforce upserts lead by lead
        size, limit = out["batch_size"], DEFAULTS[kind]["batch_size"]
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= limit:
            raise CrmError(f"{source}: batch_size: must be 1..{limit} for {kind}, got {size!r}")
    return out


# Sub-mappings whose keys are the user's own (CRM values, stages), not fixed names.
_OPEN_KEYS = {"stages_out", "status_in", "stages_in", "reasons_in", "fields"}


def _merge(base: dict[str, Any], over: Mapping[str, Any], source: str, path: str) -> None:
    for key, value in over.items():
        where = f"{path}{key}"
        name = path.rstrip(".").rsplit(".", 1)[-1]
        if key not in base and name not in _OPEN_KEYS:
            raise CrmError(f"{source}: {where}: unknown key (known: {', '.join(base)})")
        if isinstance(base.get(key), dict):
            if not isinstance(value, dict):
                raise CrmError(f"{source}: {where}: must be a mapping")
            if key in _OPEN_KEYS - {"fields"}:
                base[key] = {}  # a given value map replaces the default one
            _merge(base[key], value, source, where + ".")
        elif value is not None and not isinstance(value, str | int | float | bool):
            raise CrmError(f"{source}: {where}: must be a name or number, got {value!r}")
        else:
            base[key] = value


def load_mapping_file(kind: str, path: Path) -> dict[str, Any]:
    """A mapping YAML file merged over the defaults (errors name the file and key)."""
    import yaml

    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CrmError(f"{path}: mapping file not found") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise CrmError(f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CrmError(f"{path}: must be a mapping of settings (see docs/crm.md)")
    return merge_mapping(kind, data, str(path))


def save_connector(conn: Connection, connector: Connector, at: datetime) -> None:
    value = {"kind": connector.kind, "mapping": connector.mapping,
             "secrets_file": connector.secrets_file}  # fmt: skip
    set_setting(conn, KEY_PREFIX + connector.kind, value, at)


def get_connector(conn: Connection, kind: str) -> Connector:
    """The stored connector ``kind``.

    Raises:
        NotFoundError: not added yet.
    """
    if kind not in KINDS:
        raise CrmError(f"unknown CRM '{kind}' (use {', '.join(KINDS)})")
    value = get_setting(conn, KEY_PREFIX + kind)
    if value is None:
        raise NotFoundError(f"no {kind} connector (add one with 'leadgate crm add {kind}')")
    return Connector(kind, merge_mapping(kind, value["mapping"]), value.get("secrets_file"))


def list_connectors(conn: Connection) -> list[Connector]:
    rows = conn.execute(
        select(settings_table.c.key).where(
            settings_table.c.key.in_([KEY_PREFIX + k for k in KINDS])
        )
    ).all()
    return [get_connector(conn, r.key[len(KEY_PREFIX) :]) for r in sorted(rows)]


def add_connector(
    conn: Connection,
    kind: str,
    at: datetime,
    *,
    mapping_file: Path | None = None,
    secrets_file: Path | None = None,
) -> Connector:
    """Add (or replace) the ``kind`` connector: mapping from the file over the defaults.

    The secrets file is checked now (it must exist and be YAML) but only its path is stored.
    """
    if kind not in KINDS:
        raise CrmError(f"unknown CRM '{kind}' (use {', '.join(KINDS)})")
    mapping = load_mapping_file(kind, mapping_file) if mapping_file else merge_mapping(kind, {})
    if secrets_file is not None:
        read_secrets(secrets_file, kind)
    connector = Connector(kind, mapping, str(secrets_file.resolve()) if secrets_file else None)
    save_connector(conn, connector, at)
    return connector
