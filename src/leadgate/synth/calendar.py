"""The marketing calendar and the string vocabularies that events point into.

Newsletters go out weekly (Tuesdays), each new lead gets a seven-mail nurture sequence, webinars run every fourth Thursday and the sales team exhibits at a trade
show every five weeks; all are anchored on ``as_of`` so a run is reproducible. Events are generated as
integer codes into the vocabularies below (urls, assets, channels) and only turned into strings
when a chunk is written, which keeps generation vectorised.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from leadgate.synth import catalogs as cat

DAY = 86_400
_HISTORY_DAYS = 560  # a little more than the lead history, so old leads have a calendar too
_SHOWS = ("saastr", "dreamforce", "inbound", "mwc", "websummit", "b2b-marketing-expo")

# Event channel values beyond the web session channels.
EMAIL, WEBINAR, EVENTS = "email", "webinar", "events"
CHANNEL_VOCAB: tuple[str, ...] = (*(c for c, _ in cat.SESSION_CHANNELS), WEBINAR, EVENTS)
# Event channel of a lead's first (sign-up) event, by lead source.
SOURCE_EVENT_CHANNEL: dict[str, str] = {
    "inbound_content": "organic_search",
    "paid_search": "paid_search",
    "referral": "referral",
    "webinar": WEBINAR,
    "events": EVENTS,
    "cold_list": "direct",
}
FORM_URLS: tuple[str, ...] = ("/contact", "/trial", "/demo")
# The nurture sequence every new lead gets: days after sign-up of each e-mail.
NURTURE_DAYS: tuple[int, ...] = (1, 4, 8, 14, 21, 30, 45)


def _code(vocab: tuple[str, ...]) -> dict[str, int]:
    return {v: k for k, v in enumerate(vocab)}


@dataclass(frozen=True)
class Calendar:
    """Campaign times (epoch seconds, ascending) and the vocabularies of event properties."""

    newsletter_times: np.ndarray
    webinar_times: np.ndarray  # the last two lie after as_of: people register ahead
    show_times: np.ndarray
    urls: tuple[str, ...]
    assets: tuple[str, ...]
    channels: tuple[str, ...]

    def url_code(self, url: str) -> int:
        return self.urls.index(url)

    def channel_code(self, channel: str) -> int:
        return self.channels.index(channel)

    @property
    def newsletter_asset0(self) -> int:
        """Asset code of the first newsletter (newsletter k has code ``newsletter_asset0 + k``)."""
        return len(cat.ASSETS)

    @property
    def webinar_asset0(self) -> int:
        return len(cat.ASSETS) + len(self.newsletter_times)

    @property
    def show_asset0(self) -> int:
        return self.webinar_asset0 + len(self.webinar_times)

    @property
    def nurture_asset0(self) -> int:
        return self.show_asset0 + len(self.show_times)

    def webinar_url0(self) -> int:
        """URL code of webinar topic 0 (webinar k uses topic ``k % len(WEBINAR_TOPICS)``)."""
        return self.urls.index(f"/webinars/{cat.WEBINAR_TOPICS[0]}")


def _day_name(epoch: np.ndarray) -> list[str]:
    return [str(d) for d in epoch.astype("datetime64[s]").astype("datetime64[D]")]


def make_calendar(as_of_epoch: int) -> Calendar:
    """The campaign calendar for the history before ``as_of``."""
    day0 = as_of_epoch - as_of_epoch % DAY
    first = day0 - _HISTORY_DAYS * DAY
    first -= ((first // DAY + 3) % 7) * DAY  # a Monday (1970-01-01 was a Thursday)
    # Newsletters: weekly on Tuesdays at 14:00 UTC, strictly before as_of.
    news = np.arange(first + DAY + 14 * 3600, as_of_epoch, 7 * DAY, dtype=np.int64)
    # Webinars: every fourth Thursday at 17:00 UTC, two of them still ahead of as_of.
    web = np.arange(first + 10 * DAY + 17 * 3600, as_of_epoch + 56 * DAY, 28 * DAY, dtype=np.int64)
    # Trade shows: every five weeks, Wednesday.
    shows = np.arange(first + 23 * DAY + 9 * 3600, as_of_epoch, 35 * DAY, dtype=np.int64)

    assets = (
        *cat.ASSETS,
        *(f"newsletter-{d}" for d in _day_name(news)),
        *(
            f"webinar-{d}-{cat.WEBINAR_TOPICS[k % len(cat.WEBINAR_TOPICS)]}"
            for k, d in enumerate(_day_name(web))
        ),
        *(f"booth-scan-{_SHOWS[k % len(_SHOWS)]}-{d[:7]}" for k, d in enumerate(_day_name(shows))),
        *(f"nurture-{k + 1}-day-{d}" for k, d in enumerate(NURTURE_DAYS)),
    )
    urls = (
        *(u for u, _ in cat.RESEARCH_URLS),
        *(u for u, _ in cat.BUYING_URLS if u not in {"/demo"}),
        *FORM_URLS,
        *(f"/resources/{a}" for a in cat.ASSETS),
        *(f"/webinars/{t}" for t in cat.WEBINAR_TOPICS),
    )
    return Calendar(news, web, shows, urls, assets, CHANNEL_VOCAB)
