"""Stand-in CRMs on loopback (ports 18900-18999) and stores with a connector for each."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from crm.standins import TOKEN, HubSpotStandIn, SalesforceStandIn, tls_context
from store_helpers import store, store_url

__all__ = ["store", "store_url"]


def _free_port() -> int:
    for port in range(18900, 19000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18900-18999")


@pytest.fixture
def hubspot(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubSpotStandIn]:
    server = HubSpotStandIn(_free_port())
    server.start()
    monkeypatch.setenv("LEADGATE_HUBSPOT_TOKEN", TOKEN)
    monkeypatch.setenv("LEADGATE_HUBSPOT_HOST", server.host)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def salesforce_tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """One self-signed certificate for the run (an RSA key costs ~0.4 CPU-s to make)."""
    return tls_context(tmp_path_factory.mktemp("salesforce-tls"))


@pytest.fixture
def salesforce(
    monkeypatch: pytest.MonkeyPatch, salesforce_tls: tuple[ssl.SSLContext, Path]
) -> Iterator[SalesforceStandIn]:
    ctx, cert = salesforce_tls
    server = SalesforceStandIn(_free_port())
    server.start(ctx)
    monkeypatch.setenv("LEADGATE_SALESFORCE_INSTANCE_URL", server.instance_url)
    monkeypatch.setenv("LEADGATE_SALESFORCE_SESSION_ID", TOKEN)
    monkeypatch.setenv("LEADGATE_SALESFORCE_CA_BUNDLE", str(cert))
    yield server
    server.stop()
