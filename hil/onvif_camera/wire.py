"""The simulated camera's side of the SOAP wire: reading a request, checking its
WS-Security UsernameToken as a camera does, and writing answers and faults.

Written apart from the driver on purpose (a simulator is a device, and the same mistake on
both sides would go unseen): namespaces, the digest ``Base64(SHA-1(nonce + created +
password))`` and the fault layout are taken from the ONVIF Core and PTZ specifications and
the OASIS UsernameToken Profile 1.0.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import threading
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from xml.sax.saxutils import escape, quoteattr

from vksroom.hil.onvif_camera.model import Refusal

SOAP = "http://www.w3.org/2003/05/soap-envelope"
PREFIXES = {
    "s": SOAP,
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tptz": "http://www.onvif.org/ver20/ptz/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "ter": "http://www.onvif.org/ver10/error",
}
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST_TYPE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
TEXT_TYPE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
NOT_AUTHORIZED = Refusal(("env:Sender", "ter:NotAuthorized"), "Sender not Authorized")
CREATED = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d{1,9})?(Z|[+-]00:00)$")


def tag(prefix: str, local: str) -> str:
    return f"{{{PREFIXES[prefix]}}}{local}"


def parse_request(data: bytes) -> tuple[ET.Element | None, ET.Element]:
    """``(Header or None, the Body's operation element)``; a malformed request is a
    Sender fault, as a camera answers one."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Refusal(("env:Sender", "ter:WellFormed"), "DTDs are not allowed in SOAP messages.")
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise Refusal(("env:Sender", "ter:WellFormed"), "The request is not well-formed XML.") from None
    if root.tag != f"{{{SOAP}}}Envelope":
        raise Refusal(("env:VersionMismatch",), "The request is not a SOAP 1.2 envelope.")
    body = root.find(f"{{{SOAP}}}Body")
    if body is None or len(body) == 0:
        raise Refusal(("env:Sender", "ter:InvalidArgs"), "The request has no body.")
    return root.find(f"{{{SOAP}}}Header"), body[0]


class Authenticator:
    """Checks UsernameTokens: a known user, the right digest, ``Created`` within ``max_skew_s``
    of the camera's clock, and a nonce not seen before (a replayed token is refused)."""

    def __init__(self, users: dict[str, str], max_skew_s: float = 5.0, allow_text: bool = False):
        self.users, self.max_skew_s, self.allow_text = dict(users), max_skew_s, allow_text
        self._nonces: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def check(self, header: ET.Element | None, camera_now: datetime) -> str:
        """The user name, or raise the NotAuthorized fault."""
        token = header.find(f"{{{WSSE}}}Security/{{{WSSE}}}UsernameToken") if header is not None else None
        if token is None:
            raise NOT_AUTHORIZED
        user = (token.findtext(f"{{{WSSE}}}Username") or "").strip()
        password_el = token.find(f"{{{WSSE}}}Password")
        created = (token.findtext(f"{{{WSU}}}Created") or "").strip()
        if user not in self.users or password_el is None:
            raise NOT_AUTHORIZED
        given = (password_el.text or "").strip()
        kind = password_el.get("Type", TEXT_TYPE)
        if kind == TEXT_TYPE:
            if not (self.allow_text and hmac.compare_digest(given.encode(), self.users[user].encode())):
                raise NOT_AUTHORIZED
            return user
        if kind != DIGEST_TYPE:
            raise NOT_AUTHORIZED
        try:
            nonce = base64.b64decode(token.findtext(f"{{{WSSE}}}Nonce") or "", validate=True)
        except (binascii.Error, ValueError):
            raise NOT_AUTHORIZED from None
        when = _created(created)
        if when is None or abs((when - camera_now).total_seconds()) > self.max_skew_s:
            raise NOT_AUTHORIZED              # dated by a clock too far from the camera's
        expected = base64.b64encode(hashlib.sha1(nonce + created.encode() + self.users[user].encode()).digest())
        if not nonce or not hmac.compare_digest(expected, given.encode()):
            raise NOT_AUTHORIZED
        with self._lock:
            now = when.timestamp()
            self._nonces = {n: t for n, t in self._nonces.items() if now - t < 4 * self.max_skew_s}
            if nonce in self._nonces:
                raise NOT_AUTHORIZED          # a replay
            self._nonces[nonce] = now
        return user


def _created(text: str) -> datetime | None:
    m = CREATED.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    try:
        return datetime(y, mo, d, h, mi, s, int(float(m.group(7) or 0) * 1e6), tzinfo=timezone.utc)
    except ValueError:
        return None


# ---------------------------------------------------------------------------- writing

class Markup(str):
    """Text that is XML already."""


def x(tag_name: str, *children, **attrs) -> Markup:
    """One element: text children are escaped, :class:`Markup` children kept, None left out."""
    a = "".join(f" {k}={quoteattr(str(v))}" for k, v in attrs.items() if v is not None)
    inner = "".join(c if isinstance(c, Markup) else escape(str(c)) for c in children if c is not None)
    return Markup(f"<{tag_name}{a}>{inner}</{tag_name}>")


def answer(body: str) -> bytes:
    ns = " ".join(f'xmlns:{p}="{u}"' for p, u in PREFIXES.items())
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope {ns}><s:Body>{body}</s:Body></s:Envelope>'.encode()


def fault(refusal: Refusal) -> bytes:
    """env:Code / env:Subcode... / env:Reason, the SOAP envelope's prefix being ``s``."""
    values = [v.replace("env:", "s:", 1) for v in refusal.codes]
    sub = Markup("")
    for value in reversed(values[1:]):
        sub = x("s:Subcode", x("s:Value", value), sub)
    text = Markup(f'<s:Text xml:lang="en">{escape(refusal.reason)}</s:Text>')
    return answer(x("s:Fault", x("s:Code", x("s:Value", values[0]), sub), x("s:Reason", text)))


def utc_fields(t: datetime) -> Markup:
    return Markup(x("tt:Time", x("tt:Hour", str(t.hour)), x("tt:Minute", str(t.minute)), x("tt:Second", str(t.second)))
            + x("tt:Date", x("tt:Year", str(t.year)), x("tt:Month", str(t.month)), x("tt:Day", str(t.day))))


def number(v: float) -> str:
    return f"{v:.6f}"


def floats(el: ET.Element | None, *names: str) -> tuple | None:
    """Attributes ``names`` of ``el`` as floats (None when ``el`` is absent); a bad number is
    the InvalidArgVal fault."""
    if el is None:
        return None
    try:
        return tuple(float(el.get(n)) for n in names)
    except (TypeError, ValueError):
        raise Refusal(("env:Sender", "ter:InvalidArgVal"), f"{el.tag.rpartition('}')[2]} needs numbers "
                      f"{', '.join(names)}.") from None
