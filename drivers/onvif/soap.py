"""ONVIF's wire, without I/O: SOAP 1.2 envelopes, the WS-Security UsernameToken, and the
reading of replies and faults into plain values or :mod:`vksroom.drivers.errors`.

Facts from the specifications:

* SOAP 1.2 (``http://www.w3.org/2003/05/soap-envelope``) over HTTP POST, Content-Type
  ``application/soap+xml; charset=utf-8; action="<namespace>/<Operation>"``.
* WS-Security UsernameToken Profile 1.0 (OASIS): ``Password`` of type ``#PasswordDigest``
  is ``Base64(SHA-1(nonce + created + password))``, ``nonce`` the raw bytes sent Base64 in
  ``Nonce``, ``created`` the exact text of ``wsu:Created`` (UTC). The camera checks that
  ``Created`` is close to its own clock, so a client corrects its clock by the offset it
  reads with GetSystemDateAndTime (which needs no authentication).
* Faults (ONVIF Core, "Error handling"): ``env:Code`` holds ``env:Sender`` or
  ``env:Receiver`` and up to two ``ter:`` subcodes (``http://www.onvif.org/ver10/error``),
  e.g. ``env:Sender / ter:InvalidArgVal / ter:NoToken``; a refused UsernameToken is
  ``env:Sender / ter:NotAuthorized``.

Nothing here trusts a reply: every reader raises :class:`ProtocolError` for a reply it
cannot use, :class:`DeviceRejected` (or :class:`DeviceNotReady`) for a fault.
"""
from __future__ import annotations

import base64
import hashlib
import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, cast
from xml.sax.saxutils import escape, quoteattr

from vksroom.drivers.errors import DeviceNotReady, DeviceRejected, ProtocolError

NS = {
    "env": "http://www.w3.org/2003/05/soap-envelope",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "trt": "http://www.onvif.org/ver10/media/wsdl",
    "tptz": "http://www.onvif.org/ver20/ptz/wsdl",
    "tt": "http://www.onvif.org/ver10/schema",
    "ter": "http://www.onvif.org/ver10/error",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"   # some cameras fault in SOAP 1.1
PASSWORD_DIGEST = ("http://docs.oasis-open.org/wss/2004/01/"
                   "oasis-200401-wss-username-token-profile-1.0#PasswordDigest")
BASE64_BINARY = ("http://docs.oasis-open.org/wss/2004/01/"
                 "oasis-200401-wss-soap-message-security-1.0#Base64Binary")

# The generic spaces of the PTZ service (PTZ Service Specification, "Predefined PTZ spaces"):
# pan/tilt -1..1 and zoom 0..1 over the unit's whole range, speeds 0..1 of its fastest.
GENERIC = {
    "AbsolutePanTiltPositionSpace": "http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace",
    "AbsoluteZoomPositionSpace": "http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace",
    "RelativePanTiltTranslationSpace": "http://www.onvif.org/ver10/tptz/PanTiltSpaces/TranslationGenericSpace",
    "RelativeZoomTranslationSpace": "http://www.onvif.org/ver10/tptz/ZoomSpaces/TranslationGenericSpace",
    "ContinuousPanTiltVelocitySpace": "http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace",
    "ContinuousZoomVelocitySpace": "http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace",
    "PanTiltSpeedSpace": "http://www.onvif.org/ver10/tptz/PanTiltSpaces/GenericSpeedSpace",
    "ZoomSpeedSpace": "http://www.onvif.org/ver10/tptz/ZoomSpaces/ZoomGenericSpeedSpace",
}

MAX_REPLY = 1 << 20            # a camera's biggest answer (GetProfiles) is a few tens of kB
# Words cameras use in a fault while they start up (there is no ONVIF code for it).
NOT_READY = re.compile(r"not (yet )?ready|initiali[sz]|starting|booting|start-?up|warming up", re.I)


# ---------------------------------------------------------------------------- building

class Xml(str):
    """Text that is already XML (not escaped again by :func:`el`)."""


def el(tag: str, *content, **attrs) -> Xml:
    """``<tag attrs>content</tag>``: strings are escaped, :class:`Xml` is kept; None is left out."""
    a = "".join(f" {k}={quoteattr(str(v))}" for k, v in attrs.items() if v is not None)
    inner = "".join(c if isinstance(c, Xml) else escape(str(c)) for c in content if c is not None)
    return Xml(f"<{tag}{a}>{inner}</{tag}>" if inner else f"<{tag}{a}/>")


def num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".") if x else "0"


def action(service: str, operation: str) -> str:
    """The SOAP action of ``operation`` of ``service`` (``tds``, ``trt``, ``tptz``)."""
    return f"{NS[service]}/{operation}"


def utc_text(t: datetime) -> str:
    """xs:dateTime in UTC with milliseconds, as ``wsu:Created`` is written."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def password_digest(nonce: bytes, created: str, password: str) -> str:
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def security_header(username: str, password: str, now: datetime, nonce: bytes) -> Xml:
    """The ``wsse:Security`` header with a UsernameToken, password as digest."""
    created = utc_text(now)
    return el("wsse:Security",
              el("wsse:UsernameToken",
                 el("wsse:Username", username),
                 el("wsse:Password", password_digest(nonce, created, password), Type=PASSWORD_DIGEST),
                 el("wsse:Nonce", base64.b64encode(nonce).decode(), EncodingType=BASE64_BINARY),
                 el("wsu:Created", created)),
              **{"env:mustUnderstand": "true"})


def envelope(body: Xml, header: Xml | None = None) -> bytes:
    decl = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items())
    head = el("env:Header", header) if header else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope {decl}>{head}'
            f'{el("env:Body", body)}</env:Envelope>').encode()


def vector(pan: float | None, tilt: float | None, zoom: float | None, pt_space: str | None,
           zoom_space: str | None) -> Xml:
    """The inside of a tt:PTZVector / tt:PTZSpeed (pan/tilt and/or zoom)."""
    parts = []
    if pan is not None:
        parts.append(el("tt:PanTilt", x=num(pan), y=num(tilt if tilt is not None else 0.0), space=pt_space))
    if zoom is not None:
        parts.append(el("tt:Zoom", x=num(zoom), space=zoom_space))
    return Xml("".join(parts))


# ---------------------------------------------------------------------------- reading

def q(prefix: str, local: str) -> str:
    return f"{{{NS[prefix]}}}{local}"


def _parse(data: bytes) -> tuple[ET.Element, dict[str, str]]:
    """The document's root and its namespace prefixes (for QNames in fault codes)."""
    if len(data) > MAX_REPLY:
        raise ProtocolError(f"reply of {len(data)} bytes is too large for a SOAP answer")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ProtocolError("reply holds a DTD, which SOAP 1.2 forbids")
    prefixes: dict[str, str] = {}
    parser: ET.XMLPullParser = ET.XMLPullParser(events=("start-ns", "start"))
    root: ET.Element | None = None
    try:
        parser.feed(data)
        parser.close()
        # start-ns events carry (prefix, uri), start events an element: the stubs type them apart
        for event, item in cast(Iterator[tuple[str, Any]], parser.read_events()):
            if event == "start-ns":
                prefix, uri = item          # start-ns items are (prefix, uri)
                prefixes.setdefault(prefix, uri)
            elif root is None:
                root = item
    except (ET.ParseError, ValueError, LookupError, UnicodeError) as exc:
        raise ProtocolError(f"reply is not XML: {exc}") from None
    if root is None:
        raise ProtocolError("reply is empty")
    return root, prefixes


def _qname(text: str | None, prefixes: dict[str, str]) -> str:
    """A fault code QName as ``env:Local`` / ``ter:Local`` whatever prefix the camera used."""
    text = (text or "").strip()
    prefix, _, local = text.rpartition(":")
    uri = prefixes.get(prefix)
    for known, known_uri in (("env", NS["env"]), ("ter", NS["ter"]), ("env", SOAP11_ENV)):
        if uri == known_uri:
            return f"{known}:{local}"
    return text


@dataclass
class Fault:
    codes: list[str]        # ["env:Sender", "ter:InvalidArgVal", "ter:NoToken"]
    reason: str

    @property
    def code(self) -> str:
        return self.codes[-1] if self.codes else ""

    def error(self, what: str) -> DeviceRejected:
        chain = " / ".join(self.codes) or "no code"
        msg = f"camera refused {what}: {self.reason or 'no reason given'} ({chain})"
        if self.codes[:1] == ["env:Receiver"] and NOT_READY.search(self.reason):
            return DeviceNotReady(msg, code=self.code)
        return DeviceRejected(msg, code=self.code)


def _fault(fault: ET.Element, prefixes: dict[str, str]) -> Fault:
    if fault.tag == f"{{{SOAP11_ENV}}}Fault":
        code = _qname(fault.findtext("faultcode"), prefixes)
        return Fault([code] if code else [], (fault.findtext("faultstring") or "").strip()[:500])
    codes: list[str] = []
    node = fault.find(q("env", "Code"))
    while node is not None and len(codes) < 8:
        value = _qname(node.findtext(q("env", "Value")), prefixes)
        if value:
            codes.append(value)
        node = node.find(q("env", "Subcode"))
    reason = fault.find(q("env", "Reason"))
    texts = [t.text.strip() for t in (reason.iter(q("env", "Text")) if reason is not None else ()) if t.text]
    return Fault(codes, (texts[0] if texts else "")[:500])


def reply_fault(data: bytes) -> Fault | None:
    """The fault in a reply, or None when it holds none (or is not SOAP at all)."""
    try:
        root, prefixes = _parse(data)
    except ProtocolError:
        return None
    for ns in (NS["env"], SOAP11_ENV):
        fault = root.find(f"{{{ns}}}Body/{{{ns}}}Fault")
        if fault is not None:
            return _fault(fault, prefixes)
    return None


def read_reply(data: bytes, service: str, operation: str) -> ET.Element:
    """The ``<Operation>Response`` element of a reply; a fault raises DeviceRejected."""
    what = operation
    root, prefixes = _parse(data)
    if root.tag not in (q("env", "Envelope"), f"{{{SOAP11_ENV}}}Envelope"):
        raise ProtocolError(f"{what}: reply is not a SOAP envelope (root {root.tag[:80]!r})")
    ns = NS["env"] if root.tag == q("env", "Envelope") else SOAP11_ENV
    body = root.find(f"{{{ns}}}Body")
    if body is None or len(body) == 0:
        raise ProtocolError(f"{what}: reply has no SOAP body")
    first = body[0]
    if first.tag == f"{{{ns}}}Fault":
        raise _fault(first, prefixes).error(what)
    expected = q(service, f"{operation}Response")
    if first.tag != expected:
        raise ProtocolError(f"{what}: reply is {first.tag[:80]!r}, not {operation}Response")
    return first


# -- typed readers: each raises ProtocolError naming what is missing or wrong

def need(node: ET.Element, path: str, what: str) -> ET.Element:
    found = node.find(path, NS)
    if found is None:
        raise ProtocolError(f"{what}: reply lacks {path}")
    return found


def text(node: ET.Element, path: str, what: str) -> str:
    value = need(node, path, what).text
    if value is None or not value.strip():
        raise ProtocolError(f"{what}: {path} is empty")
    return value.strip()


def number(value: str | None, what: str) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]  # None is refused below, as TypeError
    except (TypeError, ValueError):
        raise ProtocolError(f"{what}: {value!r} is not a number") from None
    if not math.isfinite(x):
        raise ProtocolError(f"{what}: {value!r} is not a finite number")
    return x


def whole(node: ET.Element, path: str, what: str, lo: int, hi: int) -> int:
    value = text(node, path, what)
    try:
        n = int(value)
    except ValueError:
        raise ProtocolError(f"{what}: {path} {value!r} is not a whole number") from None
    if not lo <= n <= hi:
        raise ProtocolError(f"{what}: {path} {n} is outside {lo}..{hi}")
    return n


def read_clock(resp: ET.Element) -> datetime | None:
    """GetSystemDateAndTime: the camera's UTC time (None when it does not say it in UTC)."""
    what = "GetSystemDateAndTime"
    sdt = need(resp, "tds:SystemDateAndTime", what)
    utc = sdt.find("tt:UTCDateTime", NS)
    if utc is None:
        return None
    try:
        return datetime(whole(utc, "tt:Date/tt:Year", what, 1970, 9999),
                        whole(utc, "tt:Date/tt:Month", what, 1, 12),
                        whole(utc, "tt:Date/tt:Day", what, 1, 31),
                        whole(utc, "tt:Time/tt:Hour", what, 0, 23),
                        whole(utc, "tt:Time/tt:Minute", what, 0, 59),
                        whole(utc, "tt:Time/tt:Second", what, 0, 60) % 60, tzinfo=timezone.utc)
    except ValueError as exc:        # 31 February
        raise ProtocolError(f"{what}: impossible date ({exc})") from None


def read_services(resp: ET.Element) -> dict[str, str]:
    """GetServices: ``{namespace: XAddr}``."""
    out = {}
    for svc in resp.findall("tds:Service", NS):
        ns, xaddr = svc.findtext("tds:Namespace", None, NS), svc.findtext("tds:XAddr", None, NS)
        if ns and xaddr:
            out[ns.strip()] = xaddr.strip()
    return out


def read_capabilities(resp: ET.Element) -> dict[str, str]:
    """GetCapabilities (the older way): ``{namespace: XAddr}`` for Media and PTZ."""
    caps = need(resp, "tds:Capabilities", "GetCapabilities")
    out = {}
    for name, ns in (("Media", NS["trt"]), ("PTZ", NS["tptz"]), ("Device", NS["tds"])):
        xaddr = caps.findtext(f"tt:{name}/tt:XAddr", None, NS)
        if xaddr and xaddr.strip():
            out[ns] = xaddr.strip()
    return out


def read_device_info(resp: ET.Element) -> dict:
    return {k: (resp.findtext(f"tds:{k}", "", NS) or "").strip()
            for k in ("Manufacturer", "Model", "FirmwareVersion", "SerialNumber", "HardwareId")}


@dataclass(frozen=True)
class Range:
    lo: float
    hi: float

    def __contains__(self, x: float) -> bool:
        return self.lo - 1e-9 <= x <= self.hi + 1e-9


@dataclass
class Space:
    uri: str
    x: Range
    y: Range | None = None


def read_spaces(node: ET.Element, what: str) -> dict[str, list[Space]]:
    """A tt:PTZSpaces element: ``{"AbsolutePanTiltPositionSpace": [Space...], ...}``."""
    out: dict[str, list[Space]] = {}
    for group in GENERIC:
        for sp in node.findall(f"tt:{group}", NS):
            uri = (sp.findtext("tt:URI", "", NS) or "").strip()
            x = _range(sp, "tt:XRange", what)
            y = _range(sp, "tt:YRange", what) if sp.find("tt:YRange", NS) is not None else None
            if uri:
                out.setdefault(group, []).append(Space(uri, x, y))
    return out


def _range(node: ET.Element, path: str, what: str) -> Range:
    r = need(node, path, what)
    lo, hi = number(r.findtext("tt:Min", None, NS), what), number(r.findtext("tt:Max", None, NS), what)
    if lo > hi:
        raise ProtocolError(f"{what}: range {lo:g}..{hi:g} is upside down")
    return Range(lo, hi)


def tokened(resp: ET.Element, path: str, what: str):
    """``(element, its token)`` for each ``path`` under ``resp``; one without a token is an error."""
    for item in resp.findall(path, NS):
        token = item.get("token")
        if not token:
            raise ProtocolError(f"{what}: a {path.partition(':')[2]} has no token")
        yield item, token


@dataclass
class Profile:
    token: str
    name: str
    ptz_config: str | None        # PTZConfiguration token (None: a profile without PTZ)
    node: str | None


def read_profiles(resp: ET.Element) -> list[Profile]:
    out = []
    for p, token in tokened(resp, "trt:Profiles", "GetProfiles"):
        ptz = p.find("tt:PTZConfiguration", NS)
        node = (ptz.findtext("tt:NodeToken", "", NS) or "").strip() if ptz is not None else ""
        out.append(Profile(token, (p.findtext("tt:Name", "", NS) or "").strip(),
                           ptz.get("token") if ptz is not None else None, node or None))
    return out


@dataclass
class Node:
    token: str
    spaces: dict[str, list[Space]]
    max_presets: int


def read_nodes(resp: ET.Element) -> list[Node]:
    out = []
    for n, token in tokened(resp, "tptz:PTZNode", "GetNodes"):
        spaces = read_spaces(need(n, "tt:SupportedPTZSpaces", "GetNodes"), "GetNodes")
        out.append(Node(token, spaces, whole(n, "tt:MaximumNumberOfPresets", "GetNodes", 0, 1 << 20)))
    return out


@dataclass
class Status:
    pan: float | None
    tilt: float | None
    zoom: float | None
    pan_tilt_move: str | None      # IDLE | MOVING | UNKNOWN | None (not reported)
    zoom_move: str | None
    error: str = ""

    @property
    def moving(self) -> bool:
        return "MOVING" in (self.pan_tilt_move, self.zoom_move)


MOVE_STATES = ("IDLE", "MOVING", "UNKNOWN")


def read_status(resp: ET.Element) -> Status:
    what = "GetStatus"
    st = need(resp, "tptz:PTZStatus", what)
    pt = st.find("tt:Position/tt:PanTilt", NS)
    z = st.find("tt:Position/tt:Zoom", NS)
    moves = []
    for axis in ("PanTilt", "Zoom"):
        value = st.findtext(f"tt:MoveStatus/tt:{axis}", None, NS)
        value = value.strip().upper() if value and value.strip() else None
        if value is not None and value not in MOVE_STATES:
            raise ProtocolError(f"{what}: MoveStatus {axis} {value[:40]!r} is not one of {', '.join(MOVE_STATES)}")
        moves.append(value)
    return Status(number(pt.get("x"), what) if pt is not None else None,
                  number(pt.get("y"), what) if pt is not None else None,
                  number(z.get("x"), what) if z is not None else None,
                  moves[0], moves[1], (st.findtext("tt:Error", "", NS) or "").strip()[:200])


@dataclass
class Preset:
    token: str
    name: str
    position: tuple | None = field(default=None)   # (pan, tilt, zoom) as the camera stored it


def read_presets(resp: ET.Element) -> list[Preset]:
    out = []
    for p, token in tokened(resp, "tptz:Preset", "GetPresets"):
        pos = None
        pt, z = p.find("tt:PTZPosition/tt:PanTilt", NS), p.find("tt:PTZPosition/tt:Zoom", NS)
        if pt is not None:
            pos = (number(pt.get("x"), "GetPresets"), number(pt.get("y"), "GetPresets"),
                   number(z.get("x"), "GetPresets") if z is not None else None)
        out.append(Preset(token, (p.findtext("tt:Name", "", NS) or "").strip(), pos))
    return out


def read_uri(resp: ET.Element, operation: str) -> str:
    uri = text(resp, "trt:MediaUri/tt:Uri", operation)
    if not re.match(r"^(rtsp|rtsps|http|https)://", uri, re.I):
        raise ProtocolError(f"{operation}: {uri[:80]!r} is not an rtsp:// or http(s):// address")
    return uri


def clock_offset(camera_utc: datetime, sent: float, received: float) -> float:
    """Seconds the camera's clock is ahead of ours: its time (said in whole seconds, so
    taken as the middle of that second) against the middle of our round trip."""
    ours = datetime.fromtimestamp((sent + received) / 2, timezone.utc)
    return (camera_utc + timedelta(seconds=0.5) - ours).total_seconds()
