"""The bundled list of free mailbox providers behind ``not_free_email`` / ``free_email``.

An address whose domain (the text after the last ``@``, ASCII-lowercased) is in this list, or is a
subdomain of one, counts as a free (personal) address. The list covers the large global and
regional consumer providers and disposable-address services; docs/model-guide.md reproduces it.
"""

from __future__ import annotations

FREE_EMAIL_DOMAINS: tuple[str, ...] = (
    # global webmail
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
    "yahoo.es", "yahoo.it", "yahoo.co.jp", "yahoo.com.br", "yahoo.co.in", "ymail.com",
    "rocketmail.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "hotmail.de", "hotmail.it",
    "hotmail.es", "outlook.com", "outlook.fr", "outlook.de", "live.com", "live.co.uk", "live.fr",
    "msn.com", "aol.com", "aim.com", "icloud.com", "me.com", "mac.com", "protonmail.com",
    "proton.me", "pm.me", "zoho.com", "zohomail.com", "mail.com", "email.com", "gmx.com", "gmx.net",
    "gmx.de", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de", "yandex.com", "yandex.ru",
    "mail.ru", "inbox.ru", "list.ru", "bk.ru", "rambler.ru", "qq.com", "163.com", "126.com",
    "sina.com", "sohu.com", "yeah.net", "naver.com", "daum.net", "hanmail.net", "rediffmail.com",
    "fastmail.com", "fastmail.fm", "hey.com", "tutanota.com", "tuta.io", "hushmail.com",
    "laposte.net", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "libero.it", "virgilio.it",
    "tiscali.it", "alice.it", "btinternet.com", "sky.com", "virginmedia.com", "ntlworld.com",
    "talktalk.net", "comcast.net", "verizon.net", "att.net", "sbcglobal.net", "bellsouth.net",
    "cox.net", "charter.net", "earthlink.net", "optonline.net", "shaw.ca", "rogers.com",
    "sympatico.ca", "bigpond.com", "optusnet.com.au", "xtra.co.nz", "uol.com.br", "bol.com.br",
    "terra.com.br", "seznam.cz", "wp.pl", "o2.pl", "onet.pl", "interia.pl", "ziggo.nl",
    "kpnmail.nl", "telenet.be", "skynet.be", "bluewin.ch", "iol.pt", "sapo.pt",
    # disposable addresses
    "mailinator.com", "guerrillamail.com", "10minutemail.com", "temp-mail.org", "yopmail.com",
    "trashmail.com", "sharklasers.com", "getnada.com", "dispostable.com", "maildrop.cc",
)  # fmt: skip
