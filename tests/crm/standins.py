"""Stand-in HubSpot and Salesforce servers on loopback: the documented subset of each REST API
that leadgate's connectors use, including the errors, driven through the vendors' own clients.

HubSpot (CRM v3 contacts): ``POST .../batch/upsert`` (at most 100 inputs; duplicate ids in one
batch -> 400; per-input failures -> 207 with ``errors[].context.ids``; ``lifecyclestage`` set
backwards without clearing first -> that input fails), ``POST .../batch/read`` and
``POST .../search`` (``lastmodifieddate GTE``). Salesforce (REST): ``PATCH
/services/data/vXX.X/sobjects/Lead/<field>/<value>`` (201 created, 200 updated, 300 when several
leads match) and ``GET .../query?q=`` (SOQL, the WHERE's ``SystemModstamp >=`` honoured).
``fail_next`` scripts the next answers (e.g. 429 with Retry-After, 503).
"""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

LIFECYCLE = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
             "opportunity", "customer", "evangelist"]  # fmt: skip
TOKEN = "test-token-s3cret"


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class StandIn:
    """Shared state and scripted faults; subclasses answer the requests."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.requests: list[tuple[str, str, Any]] = []  # (method, path, json body)
        self.faults: list[tuple[int, dict[str, str], Any]] = []
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def fail_next(self, status: int, headers: dict[str, str] | None = None, body: Any = None,
                  times: int = 1) -> None:  # fmt: skip
        self.faults += [(status, headers or {}, body)] * times

    def start(self, context: ssl.SSLContext | None = None) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                with owner.lock:
                    owner.requests.append((self.command, self.path, body))
                    if not owner.authorised(self.headers.get("Authorization", "")):
                        status, headers, answer = (
                            401,
                            {},
                            [
                                {
                                    "message": "Session expired or invalid",
                                    "errorCode": "INVALID_SESSION_ID",
                                }
                            ],
                        )
                    elif owner.faults and owner.fault_applies(self.command, self.path):
                        status, headers, answer = owner.faults.pop(0)
                    else:
                        status, headers, answer = owner.answer(self.command, self.path, body)
                data = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        if context is not None:
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        # A short poll: ``shutdown`` waits for the loop's next poll (0.5 s by default, in every
        # test's teardown).
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def authorised(self, header: str) -> bool:
        return header == f"Bearer {TOKEN}"

    def fault_applies(self, method: str, path: str) -> bool:
        return True

    def answer(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        raise NotImplementedError


def hubspot_error(
    message: str, category: str = "VALIDATION_ERROR", **context: list[str]
) -> dict[str, Any]:
    return {"status": "error", "category": category, "message": message, "context": context,
            "errors": [], "links": {}, "id": None, "subCategory": None}  # fmt: skip


class HubSpotStandIn(StandIn):
    """Contacts keyed by email; ``contacts[email]`` = {"id", "properties", "updatedAt"}."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.contacts: dict[str, dict[str, Any]] = {}
        self.refuse_ids: set[str] = set()  # inputs answered with a per-input error (207)

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fault_applies(self, method: str, path: str) -> bool:
        return path.endswith("/batch/upsert")  # reads stay healthy: faults hit the writes

    def set(self, email: str, **props: str) -> None:
        """A change made by a sales rep in HubSpot."""
        c = self._contact(email)
        c["properties"].update(props)
        c["updatedAt"] = _now()

    def _contact(self, email: str) -> dict[str, Any]:
        if email not in self.contacts:
            now = _now()
            self.contacts[email] = {"id": str(1000 + len(self.contacts)), "createdAt": now,
                                    "updatedAt": now, "properties": {"email": email}}  # fmt: skip
        return self.contacts[email]

    def _obj(
        self, c: dict[str, Any], props: list[str] | None = None, new: bool | None = None
    ) -> dict[str, Any]:
        p = c["properties"] if props is None else {k: c["properties"].get(k) for k in props}
        out = {"id": c["id"], "properties": p, "createdAt": c["createdAt"],
               "updatedAt": c["updatedAt"], "archived": False}  # fmt: skip
        if new is not None:
            out["new"] = new
        return out

    def answer(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        now = _now()
        base = "/crm/v3/objects/contacts"
        if method == "POST" and path == base + "/batch/upsert":
            inputs = body["inputs"]
            if len(inputs) > 100:
                return 400, {}, hubspot_error("Batch input size must be at most 100")
            ids = [i["id"].lower() for i in inputs]
            if len(set(ids)) != len(ids):
                return 400, {}, hubspot_error("Duplicate IDs found in batch input")
            results, errors = [], []
            for item in inputs:
                key = item["id"].lower()
                props = dict(item["properties"])
                old = self.contacts.get(key, {}).get("properties", {}).get("lifecyclestage")
                new = props.get("lifecyclestage")
                backwards = (old and new and old in LIFECYCLE and new in LIFECYCLE
                             and LIFECYCLE.index(new) < LIFECYCLE.index(old))  # fmt: skip
                if key in self.refuse_ids or backwards:
                    why = (
                        "lifecyclestage cannot move backwards"
                        if backwards
                        else "Property values were not valid"
                    )
                    errors.append(hubspot_error(why, ids=[key]))
                    continue
                created = key not in self.contacts
                c = self._contact(key)
                c["properties"].update(props)
                c["updatedAt"] = now
                results.append(self._obj(c, new=created))
            answer = {
                "status": "COMPLETE",
                "results": results,
                "startedAt": now,
                "completedAt": now,
            }
            if errors:
                answer.update(errors=errors, numErrors=len(errors))
                return 207, {}, answer
            return 200, {}, answer
        if method == "POST" and path.startswith(base + "/batch/read"):
            found = [self._obj(self.contacts[i["id"].lower()], body.get("properties"))
                     for i in body["inputs"] if i["id"].lower() in self.contacts]  # fmt: skip
            return (
                200,
                {},
                {"status": "COMPLETE", "results": found, "startedAt": now, "completedAt": now},
            )
        if method == "POST" and path == base + "/search":
            filters = body["filterGroups"][0]["filters"]
            out = []
            for c in self.contacts.values():
                ok = True
                for f in filters:
                    value = c["properties"].get(f["propertyName"])
                    if f["operator"] == "HAS_PROPERTY":
                        ok &= value not in (None, "")
                    elif f["operator"] == "GTE" and f["propertyName"] == "lastmodifieddate":
                        stamp = datetime.fromisoformat(c["updatedAt"].replace("Z", "+00:00"))
                        ok &= stamp.timestamp() * 1000 >= int(f["value"])
                if ok:
                    out.append(self._obj(c, body.get("properties")))
            return 200, {}, {"total": len(out), "results": out}
        return 404, {}, hubspot_error(f"no route {method} {path}", "OBJECT_NOT_FOUND")


class SalesforceStandIn(StandIn):
    """Lead records (a list: several may share an external id, as in a real org)."""

    def __init__(self, port: int, field: str = "LeadgateId__c") -> None:
        super().__init__(port)
        self.field = field
        self.leads: list[dict[str, Any]] = []

    @property
    def instance_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def fault_applies(self, method: str, path: str) -> bool:
        return method == "PATCH"

    def find(self, value: str) -> list[dict[str, Any]]:
        return [r for r in self.leads if r.get(self.field) == value]

    def set(self, value: str, **fields: Any) -> None:
        """A change made in Salesforce (one record)."""
        rec = self.find(value)[0]
        rec.update(fields)
        rec["SystemModstamp"] = _now()

    def answer(self, method: str, path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        url = urlparse(path)
        m = re.fullmatch(r"/services/data/v[\d.]+/sobjects/Lead/([^/]+)/([^/]+)", url.path)
        if method == "PATCH" and m:
            field, value = m.group(1), unquote(m.group(2))
            if field != self.field:
                return (
                    404,
                    {},
                    [
                        {
                            "errorCode": "NOT_FOUND",
                            "message": f"Provided external ID field does not exist or is not accessible: {field}",
                        }
                    ],
                )
            if field in body:
                return (
                    400,
                    {},
                    [
                        {
                            "errorCode": "INVALID_FIELD",
                            "message": f"{field} specified more than once",
                        }
                    ],
                )
            missing = [
                f for f in ("LastName", "Company") if not body.get(f) and not self.find(value)
            ]
            if missing:
                return (
                    400,
                    {},
                    [
                        {
                            "errorCode": "REQUIRED_FIELD_MISSING",
                            "message": f"Required fields are missing: {missing}",
                        }
                    ],
                )
            matches = self.find(value)
            if len(matches) > 1:
                return 300, {}, [f"/services/data/v59.0/sobjects/Lead/{r['Id']}" for r in matches]
            if matches:
                matches[0].update(body, SystemModstamp=_now())
                return (
                    200,
                    {},
                    {"id": matches[0]["Id"], "success": True, "errors": [], "created": False},
                )
            rec = {"Id": f"00Q{len(self.leads):012d}", self.field: value, "Status": "Open - Not Contacted",
                   "IsConverted": False, "ConvertedOpportunity": None, **body, "SystemModstamp": _now()}  # fmt: skip
            self.leads.append(rec)
            return 201, {}, {"id": rec["Id"], "success": True, "errors": [], "created": True}
        if method == "GET" and re.fullmatch(r"/services/data/v[\d.]+/query/?", url.path):
            soql = parse_qs(url.query)["q"][0]
            since = re.search(r"SystemModstamp >= (\S+)", soql)
            out = []
            for rec in self.leads:
                if not rec.get(self.field):
                    continue
                if since and rec["SystemModstamp"] < since.group(1).replace("Z", ""):
                    continue
                out.append({"attributes": {"type": "Lead"}, **rec})
            return 200, {}, {"totalSize": len(out), "done": True, "records": out}
        return 404, {}, [{"errorCode": "NOT_FOUND", "message": f"no route {method} {path}"}]


def tls_context(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A self-signed certificate for 127.0.0.1 (Salesforce clients speak HTTPS only)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx, cert
