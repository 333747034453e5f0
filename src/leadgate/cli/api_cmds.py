"""``leadgate serve``, ``leadgate keys ...`` and ``leadgate webhooks ...``: the API's commands.

Every command takes ``--db URL`` (else ``LEADGATE_DB``, else ``leadgate.db``). Keys and webhook
secrets are printed once, when created, and never again (only hashes or the secret the receiver
needs are stored).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from leadgate.cli.common import operator
from leadgate.cli.tables import WIDE, print_table

if TYPE_CHECKING:
    from leadgate.store import Store
    from leadgate.webhooks.delivery import PassResult

console = Console()
err = Console(stderr=True)

DB_OPTION = typer.Option(
    None, "--db", help="Store URL or SQLite path [env LEADGATE_DB; default leadgate.db]."
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON instead of a table.")

keys_app = typer.Typer(help="Create, list, rotate and revoke API keys.", no_args_is_help=True)
webhooks_app = typer.Typer(
    help="Configure webhook URLs (MQL and disposition events).", no_args_is_help=True
)


def _open(db: str | None) -> Store:
    from leadgate.store import open_store

    return open_store(db)


def _when(value: object) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M")  # type: ignore[attr-defined]


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    db: str | None = DB_OPTION,
    tick_seconds: float = typer.Option(
        900.0, "--tick-seconds", help="Run tick (decay, MQL expiry) this often; 0 turns it off."
    ),
    webhooks: bool = typer.Option(
        True, "--webhooks/--no-webhooks", help="Deliver webhooks from this server."
    ),
    webhook_backoff: float = typer.Option(
        2.0, "--webhook-backoff", help="Seconds before the first retry; doubles each time."
    ),
    max_batch: int = typer.Option(1000, "--max-batch", help="Most events per request (413 above)."),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning, error."),
    access_log: bool = typer.Option(False, "--access-log", help="Log every request."),
    group_commit: bool = typer.Option(
        True, "--group-commit/--no-group-commit", help="Merge concurrent event writes."
    ),
    auth_failures: int = typer.Option(
        20,
        "--auth-failures",
        help="Failed authentications per minute from one address before 429 (0: no limit).",
    ),
    ssl_certfile: str | None = typer.Option(
        None, "--ssl-certfile", help="Serve HTTPS with this PEM certificate (chain)."
    ),
    ssl_keyfile: str | None = typer.Option(
        None, "--ssl-keyfile", help="The certificate's PEM private key (unencrypted)."
    ),
    workers: int = typer.Option(
        1, "--workers", help="Server processes sharing the port (best on PostgreSQL)."
    ),
) -> None:
    """Start the HTTP API (prints where the OpenAPI schema and docs are)."""
    from leadgate.api.server import ServeOptions, check_tls
    from leadgate.api.server import serve as run
    from leadgate.service import list_models
    from leadgate.service.keys import list_keys

    options = ServeOptions(
        db=db, host=host, port=port, tick_seconds=tick_seconds or None, webhooks=webhooks,
        webhook_backoff=webhook_backoff, max_batch=max_batch, log_level=log_level,
        access_log=access_log, group_commit=group_commit,
        auth_failures_per_minute=auth_failures, ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile, workers=workers,
    )  # fmt: skip
    check_tls(options)  # before the store is touched: a bad option changes nothing
    store = _open(db)
    try:
        models = list_models(store)
        has_keys = bool(list_keys(store))
    finally:
        store.close()
    if not models:
        err.print("[yellow]note:[/] no model published yet (leadgate models publish FILE)")
    else:
        m = models[-1]
        err.print(f"model: {m.name} {m.version} ({m.hash[:12]})")
    if not has_keys:
        err.print("[yellow]note:[/] no API keys yet (leadgate keys create --role admin)")
    run(options, announce=lambda line: console.print(line, highlight=False, soft_wrap=True))


@keys_app.command("create")
def keys_create(
    role: str = typer.Option(..., "--role", help="admin, marketing, sales or read-only."),
    name: str = typer.Option("", "--name", help="A label, e.g. the integration using it."),
    expires_in: str | None = typer.Option(
        None, "--expires-in", help="Refuse the key after this long: 90d, 12h, 2w (default never)."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Create an API key and print it (this is the only time it is shown)."""
    from leadgate.service.keys import create_key, parse_duration, parse_role

    chosen = parse_role(role)
    lifetime = None if expires_in is None else parse_duration(expires_in, "--expires-in")
    by = operator()
    store = _open(db)
    try:
        made = create_key(store, chosen, name=name, created_by=by.name, expires_in=lifetime)
    finally:
        store.close()
    typer.echo(made.token)
    until = f", expires {_when(made.key.expires_at)} UTC" if made.key.expires_at else ""
    err.print(
        f"created key {made.key.id} '{made.key.name}' with role {made.key.role.value}{until}; "
        "store it now, it cannot be shown again",
        highlight=False,
    )


@keys_app.command("rotate")
def keys_rotate(
    key: str = typer.Argument(..., help="The key's id, prefix or name."),
    overlap: str = typer.Option(
        "24h", "--overlap", help="How long the old key keeps working: 24h, 7d, 0s (at once)."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Replace a key by a new one (printed once); the old one works until the overlap ends."""
    from leadgate.service.keys import parse_duration, rotate_key

    period = parse_duration(overlap, "--overlap")
    store = _open(db)
    try:
        made = rotate_key(store, key, overlap=period, actor=operator().name)
    finally:
        store.close()
    typer.echo(made.token)
    err.print(
        f"rotated '{made.key.name}': new key {made.key.id} ({made.key.role.value}); the old key "
        f"works until {overlap} from now; store the new one now, it cannot be shown again",
        highlight=False,
    )


@keys_app.command("list")
def keys_list(
    db: str | None = DB_OPTION,
    all_: bool = typer.Option(False, "--all", help="Include revoked keys."),
    as_json: bool = JSON_OPTION,
    wide: bool = WIDE,
) -> None:
    """List API keys (id, name, prefix, role, expiry, last use; never the keys themselves)."""
    from datetime import UTC, datetime

    from leadgate.service.keys import list_keys

    store = _open(db)
    try:
        found = list_keys(store, include_revoked=all_)
    finally:
        store.close()
    now = datetime.now(UTC)
    if as_json:
        rows = [
            {"id": k.id, "name": k.name, "prefix": k.prefix, "role": k.role.value,
             "created_at": k.created_at.isoformat(), "active": k.active, "status": k.status(now),
             "expires_at": k.expires_at.isoformat() if k.expires_at else None,
             "replaced_by": k.replaced_by,
             "last_used_at": k.last_used_at.isoformat() if k.last_used_at else None}
            for k in found
        ]  # fmt: skip
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("id", "name", "prefix", "role", "expires", "last used", "status")
    for k in found:
        status = k.status(now)
        if status == "revoked":
            status = f"revoked {_when(k.revoked_at)[:10]}"
        elif k.replaced_by is not None and status == "active":
            status = f"rotated to {k.replaced_by}"
        table.add_row(
            str(k.id), k.name, k.prefix, k.role.value, _when(k.expires_at),
            _when(k.last_used_at), status,
        )  # fmt: skip
    print_table(console, table, wide=wide)


@keys_app.command("revoke")
def keys_revoke(
    key: str = typer.Argument(..., help="The key's id, prefix or name."),
    db: str | None = DB_OPTION,
) -> None:
    """Revoke an API key; requests with it are refused from now on."""
    from leadgate.service.keys import revoke_key

    store = _open(db)
    try:
        revoked = revoke_key(store, key, actor=operator().name)
    finally:
        store.close()
    console.print(f"revoked key {revoked.id} '{revoked.name}' ({revoked.role.value})")


@webhooks_app.command("add")
def webhooks_add(
    url: str = typer.Argument(..., help="Where to POST, e.g. https://crm.example.com/hooks/mql"),
    secret: str | None = typer.Option(
        None, "--secret", help="HMAC-SHA256 key (16+ characters); generated when omitted."
    ),
    topic: list[str] | None = typer.Option(
        None,
        "--topic",
        help="lead.mql, lead.disposition or lead.erased (repeatable); default: all.",
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Add a webhook; prints the secret receivers use to verify X-Leadgate-Signature."""
    from leadgate.webhooks.registry import add_webhook

    store = _open(db)
    try:
        hook, used = add_webhook(store, url, secret=secret, topics=topic or [], by=operator())
    finally:
        store.close()
    console.print(
        f"webhook {hook.id}: {hook.url} ({', '.join(hook.topics) or 'all topics'})", highlight=False
    )
    if secret is None:
        console.print(f"secret: {used}", highlight=False)


@webhooks_app.command("list")
def webhooks_list(
    db: str | None = DB_OPTION, as_json: bool = JSON_OPTION, wide: bool = WIDE
) -> None:
    """List active webhooks with their deliveries by status."""
    from leadgate.webhooks.registry import list_webhooks

    store = _open(db)
    try:
        hooks = list_webhooks(store)
    finally:
        store.close()
    if as_json:
        rows = [
            {"id": h.id, "url": h.url, "topics": list(h.topics), "deliveries": h.counts}
            for h in hooks
        ]
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table("id", "url", "topics", "pending", "delivered", "failed")
    for h in hooks:
        table.add_row(
            str(h.id), h.url, ", ".join(h.topics) or "all", str(h.counts.get("pending", 0)),
            str(h.counts.get("delivered", 0)), str(h.counts.get("failed", 0)),
        )  # fmt: skip
    print_table(console, table, wide=wide)


@webhooks_app.command("remove")
def webhooks_remove(
    webhook_id: int = typer.Argument(..., help="The webhook's id (see webhooks list)."),
    db: str | None = DB_OPTION,
) -> None:
    """Deactivate a webhook (its pending deliveries are dropped)."""
    from leadgate.webhooks.registry import remove_webhook

    store = _open(db)
    try:
        remove_webhook(store, webhook_id, by=operator())
    finally:
        store.close()
    console.print(f"removed webhook {webhook_id}")


@webhooks_app.command("retry")
def webhooks_retry(
    webhook_id: int | None = typer.Argument(None, help="Only this webhook (default: all)."),
    db: str | None = DB_OPTION,
) -> None:
    """Queue failed deliveries again (after a receiver was down longer than the retries)."""
    from leadgate.webhooks.registry import retry_failed

    store = _open(db)
    try:
        count = retry_failed(store, webhook_id, by=operator())
    finally:
        store.close()
    console.print(f"queued {count} failed deliveries again")


@webhooks_app.command("deliver")
def webhooks_deliver(db: str | None = DB_OPTION) -> None:
    """Deliver everything due now: every message not fanned out yet, then every due delivery."""
    import httpx

    from leadgate.webhooks.delivery import DeliveryPolicy
    from leadgate.webhooks.recovery import deliver_all

    policy = DeliveryPolicy()
    store = _open(db)
    try:
        with httpx.Client(timeout=policy.timeout_seconds) as client:
            result = deliver_all(store, client, policy)
    finally:
        store.close()
    _print_pass(result)


@webhooks_app.command("recover")
def webhooks_recover(
    failed: bool = typer.Option(
        False, "--failed", help="Also queue failed deliveries again (as `webhooks retry`)."
    ),
    db: str | None = DB_OPTION,
) -> None:
    """Find every message without its deliveries (whole outbox, every active webhook) and
    deliver them, with everything else due."""
    import httpx

    from leadgate.webhooks.delivery import DeliveryPolicy
    from leadgate.webhooks.recovery import deliver_all, recover

    policy = DeliveryPolicy()
    store = _open(db)
    try:
        found = recover(store, failed=failed)
        console.print(
            f"checked {found.checked} messages: {found.missing} deliveries were missing, "
            f"{found.requeued} failed deliveries queued again"
        )
        with httpx.Client(timeout=policy.timeout_seconds) as client:
            result = deliver_all(store, client, policy)
    finally:
        store.close()
    _print_pass(result)


def _print_pass(result: PassResult) -> None:
    console.print(
        f"queued {result.fanned_out}, delivered {result.delivered}, "
        f"retrying {result.retrying}, failed {result.failed}"
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(keys_app, name="keys")
    app.add_typer(webhooks_app, name="webhooks")
