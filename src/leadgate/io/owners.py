"""Reading one lead's or one account's events: which rows of an events file a read keeps.

``leadgate explain`` and ``leadgate accounts explain`` score one lead or one account; reading
every event of the file into Python for it took 18-30 s on the demo's 885k events, nearly all
of it in rows the score never reads. An ``Owners`` given to ``io.readers.read_table`` keeps the
events of some leads and the account-level events (no lead id) of some accounts; other rows are
skipped before they become Python rows (a Parquet file's rows are tested by Arrow, a batch at a
time), so they are neither read nor checked. The rows kept keep their line numbers, and their
checks are those of a whole read. A row's structure (a CSV row with too many columns, text that
is not UTF-8, JSON that does not parse) is still refused wherever it is.

An id is compared as the readers make it text (``io.readers``: ``42`` and ``42.0`` are
``"42"``; an empty cell is no id).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa


def id_text(value: Any) -> str | None:
    """The id a reader makes of ``value`` (None: no id, or not one a reader accepts)."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, str | int | float) else None


@dataclass(frozen=True)
class Owners:
    """The events of ``leads`` (by lead id) and the account-level events of ``accounts``."""

    leads: frozenset[str]
    accounts: frozenset[str] = frozenset()

    def keeps(self, lead: Any, account: Any) -> bool:
        """Whether a row with these ``lead_id`` and ``account_id`` values is kept."""
        lead_id = id_text(lead)
        if lead_id is not None:
            return lead_id in self.leads
        account_id = id_text(account)
        return account_id is not None and account_id in self.accounts

    def arrow_mask(self, batch: pa.RecordBatch) -> pa.Array | None:
        """The rows of ``batch`` kept, as a boolean array; None when the id columns are not
        text (numbers: the caller tests each row with ``keeps``)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        names = batch.schema.names
        columns = [batch.column(n) if n in names else None for n in ("lead_id", "account_id")]
        if any(c is not None and not pa.types.is_string(c.type) for c in columns):
            return None
        lead, account = columns
        if lead is None:
            return pa.array([False] * batch.num_rows) if account is None else self._of(account)
        missing = pc.fill_null(pc.equal(lead, ""), True)
        mine = pc.fill_null(
            pc.is_in(lead, value_set=pa.array(sorted(self.leads), pa.string())), False
        )
        if account is None:
            return mine
        return pc.or_(mine, pc.and_(missing, self._of(account)))

    def _of(self, account: pa.Array) -> pa.Array:
        import pyarrow as pa
        import pyarrow.compute as pc

        value_set = pa.array(sorted(self.accounts), pa.string())
        return pc.fill_null(pc.is_in(account, value_set=value_set), False)
