"""Adding, listing and removing webhooks."""

from __future__ import annotations

import pytest

from leadgate.errors import IngestError, NotFoundError
from leadgate.webhooks.registry import add_webhook, list_webhooks, remove_webhook


def test_add_list_remove(store) -> None:  # type: ignore[no-untyped-def]
    hook, secret = add_webhook(store, " https://crm.example.com/h ", topics=["lead.mql"])
    assert hook.url == "https://crm.example.com/h"
    assert len(secret) >= 32
    given, same = add_webhook(store, "http://127.0.0.1:9/x", secret="0123456789abcdef")
    assert same == "0123456789abcdef"
    assert [(h.url, h.topics) for h in list_webhooks(store)] == [
        ("https://crm.example.com/h", ("lead.mql",)),
        ("http://127.0.0.1:9/x", ()),
    ]
    remove_webhook(store, hook.id)
    assert [h.id for h in list_webhooks(store)] == [given.id]
    assert [h.active for h in list_webhooks(store, include_inactive=True)] == [False, True]
    with pytest.raises(NotFoundError, match="no webhook with id 999"):
        remove_webhook(store, 999)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "ftp://x.y/z"}, r"^url: expected an http\(s\) URL"),
        ({"url": "https:///nohost"}, r"^url: expected an http\(s\) URL"),
        ({"url": "https://x.y", "secret": "short"}, r"^secret: must be at least 16"),
        ({"url": "https://x.y", "topics": ["lead.sql"]}, r"^topics: unknown topic 'lead.sql'"),
    ],
)
def test_bad_webhooks_are_refused_naming_the_field(store, kwargs, message) -> None:  # type: ignore[no-untyped-def]
    kwargs = dict(kwargs)
    url = kwargs.pop("url")
    with pytest.raises(IngestError, match=message) as info:
        add_webhook(store, url, **kwargs)
    assert info.value.field in ("url", "secret", "topics")
    assert list_webhooks(store) == []
