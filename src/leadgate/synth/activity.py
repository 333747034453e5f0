"""Per-lead summaries of generated events: the observed behaviour that outcomes depend on.

Computed block by block while events stream to disk, so the outcome model never needs all
events in memory at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadgate.synth.calendar import Calendar
from leadgate.synth.events import EventBlock, T

NONE = -1  # "never" for the time columns


@dataclass
class Activity:
    """Per-lead counts and times (index = lead number); times are epoch seconds or ``NONE``."""

    n_events: np.ndarray
    first_demo: np.ndarray  # first demo request
    pricing_views: np.ndarray
    webinars_attended: np.ndarray
    downloads: np.ndarray
    third_high_value: np.ndarray  # time of the 3rd content download or webinar attended
    last_event: np.ndarray
    first_form: np.ndarray  # the lead's first form submission (its sign-up, for most sources)

    @classmethod
    def empty(cls, n: int) -> Activity:
        zeros = [np.zeros(n, dtype=np.int64) for _ in range(5)]
        nones = [np.full(n, NONE, dtype=np.int64) for _ in range(3)]
        return cls(zeros[0], nones[0], zeros[1], zeros[2], zeros[3], nones[1], zeros[4], nones[2])

    def add_block(self, block: EventBlock, lo: int, hi: int, cal: Calendar) -> None:
        """Fill in the rows of leads ``lo..hi-1`` from their events (sorted by lead, time)."""
        n = hi - lo
        lead = block.lead - lo
        typ = block.type
        ts = block.timestamp
        self.n_events[lo:hi] = np.bincount(lead, minlength=n)
        pricing = (typ == T["page_view"]) & (block.url == cal.url_code("/pricing"))
        self.pricing_views[lo:hi] = np.bincount(lead[pricing], minlength=n)
        attended = typ == T["webinar_attended"]
        self.webinars_attended[lo:hi] = np.bincount(lead[attended], minlength=n)
        downloads = typ == T["content_download"]
        self.downloads[lo:hi] = np.bincount(lead[downloads], minlength=n)
        self.first_demo[lo:hi] = _first_time(lead, ts, typ == T["demo_request"], n, 0)
        self.third_high_value[lo:hi] = _first_time(lead, ts, attended | downloads, n, 2)
        self.first_form[lo:hi] = _first_time(lead, ts, typ == T["form_submit"], n, 0)
        if len(lead):
            last = np.flatnonzero(np.r_[lead[1:] != lead[:-1], True])
            self.last_event[lo + lead[last]] = ts[last]


def _first_time(
    lead: np.ndarray, ts: np.ndarray, mask: np.ndarray, n: int, rank: int
) -> np.ndarray:
    """Per lead, the time of its ``rank``-th (0-based) event in ``mask``; ``NONE`` if fewer."""
    out = np.full(n, NONE, dtype=np.int64)
    lead, ts = lead[mask], ts[mask]
    if not len(lead):
        return out
    group_start = np.flatnonzero(np.r_[True, lead[1:] != lead[:-1]])
    pos = np.arange(len(lead)) - np.repeat(group_start, np.diff(np.r_[group_start, len(lead)]))
    hit = pos == rank
    out[lead[hit]] = ts[hit]
    return out
