"""``generate``: write a complete synthetic data set (accounts, leads, events, outcomes, truth).

Deterministic: the same ``(n_leads, seed, as_of, events_format, product_led)`` gives the same
files byte for byte. ``product_led`` adds the product-led motion (synth/product.py) to the same
leads: product events in the events file and product columns in truth.csv. Events are generated and written in blocks of ``BLOCK_LEADS`` leads so memory stays bounded
however many events there are. Files are written into a temporary folder inside ``out_dir`` and
moved into place at the end, so a failed run leaves no half-written data set.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from leadgate.engine.event import as_utc
from leadgate.errors import LeadgateError
from leadgate.synth import catalogs as cat
from leadgate.synth.accounts import Accounts, make_accounts
from leadgate.synth.activity import Activity
from leadgate.synth.calendar import make_calendar
from leadgate.synth.events import make_events
from leadgate.synth.leads import Leads, make_leads
from leadgate.synth.outcomes import Funnel, make_funnel
from leadgate.synth.product import PRODUCT_TYPES, PROPERTIES, make_plan, make_product_events
from leadgate.synth.writers import EVENT_FORMATS, EventWriter, iso_utc, text_or_null, write_csv

DEFAULT_AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
# as_of must leave room for 18 months of history after the epoch (times are epoch seconds).
EARLIEST_AS_OF = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_AS_OF = datetime(2200, 1, 1, tzinfo=UTC)
BLOCK_LEADS = 20_000
MAX_LEADS = 50_000_000
# Independent random streams, so changing one part of the generator leaves the others alone.
_ACCOUNTS, _LEADS, _EVENTS, _FUNNEL, _PRODUCT, _PRODUCT_EVENTS = 1, 2, 3, 4, 5, 6

Progress = Callable[[int, int], None]


class SynthError(LeadgateError):
    """Raised when ``generate`` is given options it cannot honour (bad count, unwritable folder)."""


@dataclass(frozen=True)
class SynthResult:
    """Where the files went and what they hold."""

    out_dir: Path
    accounts: Path
    leads: Path
    events: Path
    outcomes: Path
    truth: Path
    n_accounts: int
    n_leads: int
    n_events: int
    n_handed: int
    as_of: datetime
    seed: int


def _rng(seed: int, stream: int, block: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, stream, block])


def _check(n_leads: int, seed: int, events_format: str) -> None:
    if isinstance(n_leads, bool) or not isinstance(n_leads, int) or n_leads < 1:
        raise SynthError(f"leads: must be a whole number of at least 1, got {n_leads!r}")
    if n_leads > MAX_LEADS:
        raise SynthError(f"leads: at most {MAX_LEADS:,} per data set, got {n_leads:,}")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise SynthError(f"seed: must be a whole number from 0 to 2**63-1, got {seed!r}")
    if events_format not in EVENT_FORMATS:
        raise SynthError(
            f"format: expected one of {', '.join(EVENT_FORMATS)}, got {events_format!r}"
        )


def _prepare(out_dir: Path) -> Path:
    """Create ``out_dir`` and a private temporary folder in it; user-fixable failures raise."""
    if out_dir.exists() and not out_dir.is_dir():
        raise SynthError(f"{out_dir} exists and is not a folder; give a folder for the data set")
    if not out_dir.exists() and not out_dir.parent.exists():
        # As every output (io.writers.check_output_folder): the data set's folder is made,
        # the folder it goes in is not.
        raise SynthError(f"{out_dir}: folder {out_dir.parent} does not exist (create it first)")
    try:
        out_dir.mkdir(exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=".synth-", dir=out_dir))
    except OSError as exc:
        raise SynthError(f"cannot write to {out_dir}: {exc.strerror or exc}") from None


def generate(
    n_leads: int,
    seed: int,
    out_dir: str | Path,
    as_of: datetime | None = None,
    events_format: str = "parquet",
    progress: Progress | None = None,
    product_led: bool = False,
) -> SynthResult:
    """Generate ``n_leads`` leads with their accounts, events, outcomes and ground truth.

    Args:
        n_leads: number of leads (at least 1).
        seed: random seed; the same seed gives the same files.
        out_dir: folder for accounts.csv, leads.csv, events.<format>, outcomes.csv, truth.csv
            (created if missing; existing files of those names are replaced).
        as_of: the data set's "now": every timestamp is at or before it; default 2026-11-01 UTC.
        events_format: parquet, csv or jsonl.
        progress: called with (leads done, n_leads) as event blocks are written.
        product_led: add the product-led motion (trial sign-ups, activation, usage,
            invitations, upgrades, hand raises) driven by a hidden product propensity that
            also drives the outcomes (synth/product.py).

    Raises:
        SynthError: for a bad count, seed or format, or a folder that cannot be written.
    """
    _check(n_leads, seed, events_format)
    when = as_utc(as_of) if as_of is not None else DEFAULT_AS_OF
    if not EARLIEST_AS_OF <= when < LATEST_AS_OF:
        raise SynthError(f"as_of: must be in the years 2000 to 2199, got {when.isoformat()}")
    now = int(when.timestamp())
    out = Path(out_dir)
    tmp = _prepare(out)
    names = {
        "accounts": "accounts.csv",
        "leads": "leads.csv",
        "events": f"events.{events_format}",
        "outcomes": "outcomes.csv",
        "truth": "truth.csv",
    }
    try:
        accounts = make_accounts(_rng(seed, _ACCOUNTS), n_leads)
        leads = make_leads(_rng(seed, _LEADS), n_leads, accounts, now)
        cal = make_calendar(now)
        activity = Activity.empty(n_leads)
        plan = make_plan(_rng(seed, _PRODUCT), leads, accounts, now) if product_led else None
        sessions = np.zeros(n_leads, dtype=np.int64)
        writer = EventWriter(
            tmp / names["events"], events_format, cal, leads.lead_id,
            *((PROPERTIES, PRODUCT_TYPES) if product_led else ()),
        )  # fmt: skip
        try:
            for block, lo in enumerate(range(0, n_leads, BLOCK_LEADS)):
                hi = min(n_leads, lo + BLOCK_LEADS)
                events = make_events(_rng(seed, _EVENTS, block), leads, lo, hi, cal, now)
                activity.add_block(events, lo, hi, cal)
                writer.write(events)
                if plan is not None:
                    rng = _rng(seed, _PRODUCT_EVENTS, block)
                    counts, rows = make_product_events(rng, plan, lo, hi, now)
                    sessions[lo:hi] = counts["sessions"]
                    writer.write_rows(rows)
                if progress is not None:
                    progress(hi, n_leads)
        finally:
            writer.close()
        funnel = make_funnel(_rng(seed, _FUNNEL), leads, accounts, activity, now, plan)
        if plan is not None:
            funnel.truth.update(plan.truth(sessions))
        _write_tables(tmp, names, accounts, leads, funnel)
        for name in names.values():
            os.replace(tmp / name, out / name)
    except OSError as exc:
        raise SynthError(f"cannot write to {out}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return SynthResult(
        out_dir=out,
        **{k: out / v for k, v in names.items()},
        n_accounts=len(accounts),
        n_leads=n_leads,
        n_events=writer.count,
        n_handed=int(funnel.handed.sum()),
        as_of=when,
        seed=seed,
    )


def _write_tables(
    tmp: Path, names: dict[str, str], accounts: Accounts, leads: Leads, funnel: Funnel
) -> None:
    """Write accounts.csv, leads.csv, outcomes.csv and truth.csv."""
    industries = np.asarray([i.name for i in cat.INDUSTRIES], dtype=object)
    countries = np.asarray([c.code for c in cat.COUNTRIES], dtype=object)
    regions = np.asarray([c.region for c in cat.COUNTRIES], dtype=object)
    write_csv(
        {
            "account_id": accounts.account_id,
            "company": accounts.company,
            "domain": accounts.domain,
            "industry": industries[accounts.industry],
            "company_size": accounts.company_size,
            "country": countries[accounts.country],
            "region": regions[accounts.country],
        },
        tmp / names["accounts"],
    )
    acc = leads.account
    size = pa.array(accounts.company_size[acc], mask=~leads.size_reported)
    write_csv(
        {
            "lead_id": leads.lead_id,
            "account_id": accounts.account_id[acc],
            "email": leads.email,
            "first_name": leads.first_name,
            "last_name": leads.last_name,
            "title": text_or_null(leads.title),
            "seniority": np.asarray([s.name for s in cat.SENIORITIES], dtype=object)[
                leads.seniority
            ],
            "department": leads.department,
            "company": accounts.company[acc],
            "industry": industries[accounts.industry[acc]],
            "company_size": size,
            "country": countries[accounts.country[acc]],
            "region": regions[accounts.country[acc]],
            "source": np.asarray([c.name for c in cat.CHANNELS], dtype=object)[leads.channel],
            "created_at": iso_utc(leads.created_at),
        },
        tmp / names["leads"],
    )
    h = np.flatnonzero(funnel.handed)
    write_csv(
        {
            "lead_id": leads.lead_id[h],
            "mql_time": iso_utc(funnel.mql_time[h]),
            "sal_status": text_or_null(funnel.sal_status[h]),
            "sal_time": iso_utc(funnel.sal_time[h]),
            "reject_reason": text_or_null(funnel.reject_reason[h]),
            "first_touch_time": iso_utc(funnel.first_touch_time[h]),
            "sql_time": iso_utc(funnel.sql_time[h]),
            "opportunity_time": iso_utc(funnel.opportunity_time[h]),
            "amount": pa.array(
                np.nan_to_num(funnel.amount[h]).astype(np.int64), mask=np.isnan(funnel.amount[h])
            ),
            "closed_time": iso_utc(funnel.closed_time[h]),
            "outcome": text_or_null(funnel.outcome[h]),
        },
        tmp / names["outcomes"],
    )
    write_csv({"lead_id": leads.lead_id, **funnel.truth}, tmp / names["truth"])
