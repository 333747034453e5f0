"""Where a report's history comes from: the store (``--db``) or files (``--leads --outcomes``).

``HistorySource`` is what the ``leadgate report``/``calibrate``/``targets`` commands and the API
pass to the library: it checks that exactly one of the two was named, then reads the funnel frame
(``frame()``) or the full replay history with events (``history()``), and finds models by file
path or, with a store, by published version.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from leadgate.engine import Plan
from leadgate.errors import OptionError
from leadgate.lifecycle.sla import DEFAULT_SLA_HOURS
from leadgate.model import Model, load_model
from leadgate.report.frame import UNKNOWN, frame_from_files
from leadgate.report.history import History, history_from_files


@dataclass(frozen=True)
class HistorySource:
    """The store URL, or the files of a history (leads + outcomes, optional events/accounts)."""

    db: str | None = None
    leads: Path | None = None
    outcomes: Path | None = None
    events: Path | None = None
    accounts: Path | None = None
    model_version: str = UNKNOWN  # the version label of file outcomes that name none
    sla_hours: float = DEFAULT_SLA_HOURS  # the SLA of file outcomes that carry none

    def check(self, *, need_events: bool = False) -> None:
        """Raise a one-line error unless exactly one complete source is named."""
        files = any(p is not None for p in (self.leads, self.outcomes, self.events, self.accounts))
        if self.db and files:
            raise OptionError(
                "",
                "give either {db} or {leads}/{outcomes} files, not both",
                mentions=("db", "leads", "outcomes"),
            )
        if self.db:
            return
        if self.leads is None or self.outcomes is None:
            what = "{leads}, {events} and {outcomes}" if need_events else "{leads} and {outcomes}"
            raise OptionError(
                "",
                "no history: give {db} URL, or " + what,
                mentions=("db", "leads", "events", "outcomes"),
            )
        if need_events and self.events is None:
            raise OptionError("events", "replaying history needs the leads' activity")

    @property
    def given(self) -> bool:
        return bool(self.db) or self.leads is not None or self.outcomes is not None

    def _store(self) -> Any:
        from leadgate.store.db import open_store

        return open_store(self.db)

    def frame(self) -> pd.DataFrame:
        """The funnel frame of this history."""
        self.check()
        if self.db:
            from leadgate.report.store_frame import frame_from_store

            store = self._store()
            try:
                return frame_from_store(store)
            finally:
                store.close()
        assert self.leads is not None and self.outcomes is not None
        return frame_from_files(
            self.leads, self.outcomes, accounts=self.accounts, model_version=self.model_version,
            sla_hours=self.sla_hours,
        )  # fmt: skip

    def history(self) -> History:
        """Profiles, events and the funnel frame, for replay."""
        self.check(need_events=True)
        if self.db:
            from leadgate.report.store_frame import history_from_store

            store = self._store()
            try:
                return history_from_store(store)
            finally:
                store.close()
        assert self.leads is not None and self.outcomes is not None
        return history_from_files(
            self.leads, self.events, self.outcomes, accounts=self.accounts,
            model_version=self.model_version, sla_hours=self.sla_hours,
        )  # fmt: skip

    def model(self, ref: str | Path) -> Model:
        """A model file, or (with ``--db``) a published version label or hash prefix."""
        return self.model_and_text(ref)[0]

    def model_and_text(self, ref: str | Path) -> tuple[Model, str]:
        """``model(ref)`` and its YAML text (the file's, or the one published)."""
        path = Path(ref)
        if path.exists() or not self.db:
            model = load_model(path)
            return model, path.read_text(encoding="utf-8")
        from leadgate.report.store_frame import store_model_text

        store = self._store()
        try:
            return store_model_text(store, str(ref))
        finally:
            store.close()

    def version_labels(self, name: str) -> set[str]:
        """The version labels the store has published for model ``name`` (none for files)."""
        if not self.db:
            return set()
        from leadgate.report.store_frame import store_version_labels

        store = self._store()
        try:
            return store_version_labels(store, name)
        finally:
            store.close()

    def plans(self) -> dict[str, Plan]:
        """The store's published plans by hash (empty for files)."""
        if not self.db:
            return {}
        from leadgate.report.store_frame import store_plans

        store = self._store()
        try:
            return store_plans(store)
        finally:
            store.close()
