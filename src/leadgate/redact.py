"""Keeping secrets out of messages and logs: the password of a database URL, wherever it is.

Every module that names a store or server URL in a message or a log line passes it through
``mask_password`` first, whether or not the URL parses (a malformed one is echoed too).
"""

from __future__ import annotations

import re

# "scheme://user:password@": everything between the user's ':' and the last '@' before white
# space is taken as the password (an unescaped password may itself hold ':', '@' and '/').
_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:@/\s]*):(?P<password>[^\s]*)@")


def mask_password(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    return _PASSWORD.sub(lambda m: f"{m['head']}:***@", text)
