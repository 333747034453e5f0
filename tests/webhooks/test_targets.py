"""The webhook target allow-list: private, loopback and link-local addresses are refused when a
webhook is added and again before each delivery, unless the setting allows them."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from api_helpers import receiver
from leadgate.errors import IngestError
from leadgate.service.settings import change_setting, unset_setting
from leadgate.store import Store
from leadgate.store.audit import Actor
from leadgate.store.schema import outbox, webhook_deliveries
from leadgate.webhooks.delivery import DeliveryPolicy, run_once
from leadgate.webhooks.registry import add_webhook
from leadgate.webhooks.targets import ENV_VAR, RANGES, parse_allow, refusal

T0 = datetime(2026, 6, 1, tzinfo=UTC)
OPS = Actor("cli:ops")
NETS = {name: [ipaddress.ip_network(n) for n in nets] for name, nets in RANGES.items()}


@pytest.fixture(autouse=True)
def _no_test_override(monkeypatch: pytest.MonkeyPatch) -> None:
    # tests/conftest.py allows loopback for every other test; these test the default.
    monkeypatch.delenv(ENV_VAR, raising=False)


def _allow(*names: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    out = []
    for name in parse_allow(names):
        out += NETS[name] if name in NETS else [ipaddress.ip_network(name)]
    return tuple(out)


@pytest.mark.parametrize(
    ("address", "kind"),
    [("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
     ("::ffff:127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("172.31.255.1", "private"),
     ("192.168.0.10", "private"), ("100.64.0.1", "private"), ("fd00::5", "private"),
     ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
     ("0.0.0.0", "routable"), ("::", "routable"), ("224.0.0.1", "routable"),
     ("240.0.0.1", "routable")],
)  # fmt: skip
def test_refused_by_default(address: str, kind: str) -> None:
    reason = refusal(ipaddress.ip_address(address), ())
    assert reason is not None and kind in reason


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address), ()) is None


def test_the_setting_opens_exactly_what_it_names() -> None:
    loopback = _allow("loopback")
    assert refusal(ipaddress.ip_address("127.0.0.1"), loopback) is None
    assert refusal(ipaddress.ip_address("10.0.0.1"), loopback) is not None
    block = _allow("10.20.0.0/16")
    assert refusal(ipaddress.ip_address("10.20.3.4"), block) is None
    assert refusal(ipaddress.ip_address("10.21.3.4"), block) is not None
    with pytest.raises(IngestError, match=r"webhooks.allow_targets: 'intranet' is neither"):
        parse_allow(["intranet"])


@given(st.sampled_from(sorted(RANGES)), st.integers(min_value=0, max_value=2**32 - 1))
def test_every_address_of_a_range_is_refused_unless_allowed(name: str, n: int) -> None:
    net = NETS[name][0]  # the IPv4 block of the range
    address = net[n % net.num_addresses]
    assert refusal(address, ()) is not None
    assert refusal(address, _allow(name)) is None


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/x", "http://localhost:9/x", "http://[::1]/x",
            "http://169.254.169.254/latest/meta-data", "https://10.0.0.8/hook"],
)  # fmt: skip
def test_adding_a_refused_target_names_the_url(store: Store, url: str) -> None:
    with pytest.raises(IngestError, match=r"^url: .* refused: .*webhooks.allow_targets"):
        add_webhook(store, url, now=T0)


def test_loopback_allowed_by_the_setting(store: Store) -> None:
    change_setting(store, "webhooks.allow_targets", "loopback", at=T0, by=OPS)
    hook, _ = add_webhook(store, "http://localhost:9/x", now=T0)
    assert hook.id
    with pytest.raises(IngestError, match="private"):
        add_webhook(store, "http://10.0.0.1/x", now=T0)


def test_delivery_checks_again_after_resolution(store: Store) -> None:
    """A target allowed when added but refused at delivery time is not called."""
    change_setting(store, "webhooks.allow_targets", "loopback", at=T0, by=OPS)
    with receiver() as rx:
        url = rx.url.replace("127.0.0.1", "localhost")  # a name: resolved before each send
        add_webhook(store, url, secret="0123456789abcdef", now=T0)
        with store.write() as conn:
            conn.execute(
                outbox.insert().values(topic="lead.mql", lead_id="x", payload={}, created_at=T0)
            )
        unset_setting(store, "webhooks.allow_targets", at=T0, by=OPS)
        with httpx.Client(timeout=5) as client:
            result = run_once(store, client, DeliveryPolicy(max_attempts=1))
        assert rx.hits == [] and result.failed == 1
    with store.read() as conn:
        (error,) = conn.execute(select(webhook_deliveries.c.last_error)).scalars()
    assert error.startswith("refused target: url: localhost refused: 127.0.0.1 is a loopback")
