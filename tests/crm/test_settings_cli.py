"""CRM settings (mapping over defaults, credentials never shown), batching rules, and the
``leadgate crm`` commands end to end through the real CLI against the HubSpot stand-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli_helpers import in_process, leadgate
from crm.standins import TOKEN, HubSpotStandIn
from leadgate.crm.hubspot import _batches
from leadgate.crm.pull_map import outcome_from
from leadgate.crm.settings import (
    HUBSPOT_DEFAULTS,
    Connector,
    CrmError,
    load_mapping_file,
    merge_mapping,
)
from leadgate.engine import Event
from leadgate.service import ingest_events, publish_model, upsert_lead
from leadgate.store import open_store
from leadgate.store.settings import get_setting
from store_helpers import TINY_MODEL

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_mapping_file_overrides_defaults(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("score_step: 10\nfields:\n  score: lg_score\n  reasons: null\n"
                 "stages_out:\n  mql: salesqualifiedlead\n")  # fmt: skip
    m = load_mapping_file("hubspot", f)
    assert m["score_step"] == 10 and m["fields"]["score"] == "lg_score"
    assert m["fields"]["reasons"] is None and m["fields"]["mql"] == "leadgate_mql"
    assert m["stages_out"] == {"mql": "salesqualifiedlead"}  # a value map replaces the default
    assert HUBSPOT_DEFAULTS["fields"]["score"] == "leadgate_score"  # defaults untouched


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("scor_step: 3\n", "m.yaml: scor_step: unknown key"),
        ("score_step: -1\n", "m.yaml: score_step: must be a number >= 0"),
        ("batch_size: 500\n", "m.yaml: batch_size: must be 1..100 for hubspot"),
        ("pull: 3\n", "m.yaml: pull: must be a mapping"),
        ("fields: [a\n", "m.yaml:2: not valid YAML"),
        ("- a\n", "m.yaml: must be a mapping of settings"),
    ],
)
def test_bad_mapping_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(text)
    with pytest.raises(CrmError) as err:
        load_mapping_file("hubspot", f)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_credentials_from_env_then_file_and_never_in_messages(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text("hubspot:\n  access_token: from-file-s3cret\n")
    c = Connector("hubspot", merge_mapping("hubspot", {}), str(secrets))
    assert c.credentials({})["access_token"] == "from-file-s3cret"
    assert c.credentials({"LEADGATE_HUBSPOT_TOKEN": "env-s3cret"})["access_token"] == "env-s3cret"
    bare = Connector("salesforce", merge_mapping("salesforce", {}), None)
    with pytest.raises(CrmError) as err:
        bare.credentials({"LEADGATE_SALESFORCE_PASSWORD": "pw-s3cret"})
    assert "LEADGATE_SALESFORCE_SESSION_ID" in str(err.value) and "s3cret" not in str(err.value)
    secrets.write_text("access_token: [s3cret-in-broken-yaml\n")
    with pytest.raises(CrmError) as err:
        c.credentials({})
    assert "not valid YAML" in str(err.value) and "s3cret" not in str(err.value)


@given(st.lists(st.sampled_from("abcdefg"), max_size=60), st.integers(1, 10))
def test_batches_hold_each_item_once_and_no_id_twice(ids: list[str], size: int) -> None:
    items = [(i, n) for n, i in enumerate(ids)]
    batches = list(_batches(items, size))
    assert sorted(x for b in batches for x in b) == sorted(items)
    for b in batches:
        assert 1 <= len(b) <= size and len({k for k, _ in b}) == len(b)
    for key in set(ids):  # the same contact's writes stay in order
        order = [n for b in batches for k, n in b if k == key]
        assert order == sorted(order)


@given(st.dictionaries(st.sampled_from(["hs_lead_status", "lifecyclestage"]),
                       st.sampled_from(["UNQUALIFIED", "IN_PROGRESS", "customer", "lead",
                                        "opportunity", "OPEN_DEAL", "x"])))  # fmt: skip
def test_the_furthest_mapped_action_wins(record: dict[str, str]) -> None:
    pull = HUBSPOT_DEFAULTS["pull"]
    got = outcome_from("hubspot", "L1", record, pull)
    mapped = [pull["status_in"].get(record.get("hs_lead_status", "")),
              pull["stages_in"].get(record.get("lifecyclestage", ""))]  # fmt: skip
    mapped = [m for m in mapped if m]
    if not mapped:
        assert got is None
    else:
        assert got is not None and got.action in mapped
        assert not ("won" in mapped and got.action != "won")


def _cli(
    *args: str, env: dict[str, str] | None = None, process: bool = False
) -> subprocess.CompletedProcess[str]:
    """``leadgate ARGS``: a process of its own when ``process`` (as a user runs it), else in this
    process; without ``env``, no token from the developer's shell."""
    full = {"PYTHONPATH": os.pathsep.join(sys.path), **(env or {"LEADGATE_HUBSPOT_TOKEN": ""})}
    return (leadgate if process else in_process)(*args, env=full)


def test_crm_commands_end_to_end(tmp_path: Path, hubspot: HubSpotStandIn) -> None:
    db = str(tmp_path / "lg.db")
    store = open_store(db)
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    upsert_lead(store, "L1", {"title": "VP", "email": "l1@corp.com"}, T0)
    ingest_events(store, [Event("L1", "demo_request", T0, "d1", {})], T0)
    store.close()
    env = {"LEADGATE_HUBSPOT_TOKEN": TOKEN, "LEADGATE_HUBSPOT_HOST": hubspot.host}

    added = _cli("crm", "add", "hubspot", "--db", db, env=env)
    assert added.returncode == 0 and "hubspot connector added" in added.stdout
    dry = _cli("crm", "push", "--dry-run", "--db", db, env=env)
    assert dry.returncode == 0, dry.stderr
    assert "would write 1 lead" in dry.stdout and "marketingqualifiedlead" in dry.stdout
    assert hubspot.requests == []
    pushed = _cli("crm", "push", "--db", db, env=env, process=True)
    assert "hubspot: 1 pushed, 0 to retry, 0 failed" in pushed.stdout
    assert "l1@corp.com" in hubspot.contacts
    hubspot.set("l1@corp.com", hs_lead_status="IN_PROGRESS")
    pulled = _cli("crm", "pull", "--db", db, env=env)
    assert "1 recorded" in pulled.stdout and "L1: accept" in pulled.stdout
    listed = _cli("crm", "list", "--json", "--db", db, env=env)
    assert json.loads(listed.stdout)["hubspot"]["synced"] == 1
    for out in (added, dry, pushed, pulled, listed):
        assert TOKEN not in out.stdout + out.stderr

    no_creds = _cli("crm", "push", "--db", db, env={"LEADGATE_HUBSPOT_TOKEN": ""}, process=True)
    assert no_creds.returncode == 1
    assert "no credentials: set LEADGATE_HUBSPOT_TOKEN" in no_creds.stderr
    assert "Traceback" not in no_creds.stderr
    wrong = _cli("crm", "add", "pipedrive", "--db", db, env=env)
    assert wrong.returncode == 1 and "unknown CRM 'pipedrive'" in wrong.stderr
    nothing = _cli("crm", "pull", "--crm", "salesforce", "--db", db, env=env)
    assert nothing.returncode == 3 and "no salesforce connector" in nothing.stderr


def test_push_every_hands_an_mql_over_within_a_second(
    tmp_path: Path, hubspot: HubSpotStandIn
) -> None:
    import time

    db = str(tmp_path / "lg.db")
    store = open_store(db)
    publish_model(store, TINY_MODEL, actor="t", as_of=T0)
    env = {"LEADGATE_HUBSPOT_TOKEN": TOKEN, "LEADGATE_HUBSPOT_HOST": hubspot.host}
    assert _cli("crm", "add", "hubspot", "--db", db, env=env).returncode == 0
    full = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), **env}
    worker = subprocess.Popen([sys.executable, "-m", "leadgate", "crm", "push", "--every", "0.2",
                               "--db", db], env=full, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the worker is up once its first round ran
            with store.read() as conn:
                if get_setting(conn, "crm.hubspot.outbox_cursor") is not None:
                    break
            time.sleep(0.05)
        now = datetime.now(UTC)
        upsert_lead(store, "L1", {"title": "VP", "email": "l1@corp.com"}, now)
        started = time.monotonic()
        ingest_events(store, [Event("L1", "demo_request", now, "d1", {})], now)
        while "l1@corp.com" not in hubspot.contacts and time.monotonic() < deadline:
            time.sleep(0.01)
        took = time.monotonic() - started
    finally:
        worker.terminate()
        worker.wait(10)
        store.close()
    assert "l1@corp.com" in hubspot.contacts, worker.stderr.read() if worker.stderr else ""
    print(f"MQL event to HubSpot contact: {took * 1000:.0f} ms")


@given(st.integers(1, 30), st.one_of(st.none(), st.floats(0, 10_000)))
def test_retry_delay_grows_and_never_undercuts_retry_after(
    attempts: int, after: float | None
) -> None:
    from leadgate.crm.sync import MAX_DELAY, delay

    wait = delay(attempts, after).total_seconds()
    assert wait >= (after or 0.0)
    assert wait <= max(MAX_DELAY * 1.1, after or 0.0) + 1e-6
    if after is None and attempts < 10:
        assert delay(attempts + 1, None) > delay(attempts, None)  # doubling beats +-10% jitter
