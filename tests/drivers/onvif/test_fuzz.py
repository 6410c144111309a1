"""Replies fuzzed: random bytes, broken XML, envelopes with wrong values in the right places,
and junk over a real socket. The driver never raises anything but the drivers' errors."""
import socket
import threading
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vksroom.drivers.errors import DeviceError, DeviceRejected, ProtocolError
from vksroom.drivers.onvif import soap
from vksroom.drivers.onvif.link import HttpLink
from vksroom.hil.onvif_camera import OnvifCameraSimulator

MANY = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

NSDECL = " ".join(f'xmlns:{p}="{u}"' for p, u in soap.NS.items())
OPS = [("tptz", "GetStatus", soap.read_status), ("trt", "GetProfiles", soap.read_profiles),
       ("tptz", "GetNodes", soap.read_nodes), ("tptz", "GetPresets", soap.read_presets),
       ("tds", "GetSystemDateAndTime", soap.read_clock), ("tds", "GetServices", soap.read_services),
       ("tds", "GetCapabilities", soap.read_capabilities), ("trt", "GetStreamUri", lambda r: soap.read_uri(r, "x"))]


def wrap(body: str) -> bytes:
    return f'<env:Envelope {NSDECL}><env:Body>{body}</env:Body></env:Envelope>'.encode()


def only_driver_errors(fn, *args):
    try:
        return fn(*args)
    except DeviceError as exc:
        assert str(exc)
        return None


@MANY
@given(st.binary(max_size=400), st.sampled_from(OPS))
def test_random_bytes(data, op):
    service, name, reader = op
    resp = only_driver_errors(soap.read_reply, data, service, name)
    if resp is not None:
        only_driver_errors(reader, resp)
    soap.reply_fault(data)          # never raises


# pieces that go where the readers look: numbers, words, any text XML can hold, nothing
xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12)
value = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str),
                  xml_text, st.sampled_from(["", "IDLE", "MOVING", "-1", "1e999", "0x10", " 2 "]))
maybe = st.one_of(st.none(), value)


@st.composite
def status_reply(draw):
    def attr(name):
        v = draw(maybe)
        return "" if v is None else f" {name}={quoteattr(v)}"
    parts = []
    if draw(st.booleans()):
        parts.append(f"<tt:Position><tt:PanTilt{attr('x')}{attr('y')}/><tt:Zoom{attr('x')}/></tt:Position>")
    if draw(st.booleans()):
        parts.append(f"<tt:MoveStatus><tt:PanTilt>{escape(draw(value))}</tt:PanTilt>"
                     f"<tt:Zoom>{escape(draw(value))}</tt:Zoom></tt:MoveStatus>")
    inner = f"<tptz:PTZStatus>{''.join(parts)}</tptz:PTZStatus>" if draw(st.booleans()) else ""
    return wrap(f"<tptz:GetStatusResponse>{inner}</tptz:GetStatusResponse>")


@MANY
@given(status_reply())
def test_status_with_wrong_values(data):
    st_ = only_driver_errors(lambda: soap.read_status(soap.read_reply(data, "tptz", "GetStatus")))
    if st_ is not None:
        for v in (st_.pan, st_.tilt, st_.zoom):
            assert v is None or isinstance(v, float) and abs(v) < float("inf")
        assert st_.pan_tilt_move in (None, "IDLE", "MOVING", "UNKNOWN")


@st.composite
def clock_reply(draw):
    fields = "".join(f"<tt:{k}>{escape(draw(value))}</tt:{k}>" for k in ("Hour", "Minute", "Second"))
    date = "".join(f"<tt:{k}>{escape(draw(value))}</tt:{k}>" for k in ("Year", "Month", "Day"))
    return wrap(f"<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:UTCDateTime><tt:Time>{fields}"
                f"</tt:Time><tt:Date>{date}</tt:Date></tt:UTCDateTime></tds:SystemDateAndTime>"
                f"</tds:GetSystemDateAndTimeResponse>")


@MANY
@given(clock_reply())
def test_clock_with_wrong_values(data):
    only_driver_errors(lambda: soap.read_clock(soap.read_reply(data, "tds", "GetSystemDateAndTime")))


@st.composite
def nodes_reply(draw):
    def rng():
        return f"<tt:Min>{escape(draw(value))}</tt:Min><tt:Max>{escape(draw(value))}</tt:Max>"
    spaces = "".join(f"<tt:{g}><tt:URI>{escape(draw(st.sampled_from([u, '', 'x'])))}</tt:URI>"
                     f"<tt:XRange>{rng()}</tt:XRange>{'<tt:YRange>' + rng() + '</tt:YRange>' if draw(st.booleans()) else ''}"
                     f"</tt:{g}>" for g, u in soap.GENERIC.items() if draw(st.booleans()))
    token = draw(maybe)
    tok = "" if token is None else f" token={quoteattr(token)}"
    return wrap(f"<tptz:GetNodesResponse><tptz:PTZNode{tok}><tt:SupportedPTZSpaces>{spaces}</tt:SupportedPTZSpaces>"
                f"<tt:MaximumNumberOfPresets>{escape(draw(value))}</tt:MaximumNumberOfPresets></tptz:PTZNode>"
                f"</tptz:GetNodesResponse>")


@MANY
@given(nodes_reply())
def test_nodes_with_wrong_values(data):
    nodes = only_driver_errors(lambda: soap.read_nodes(soap.read_reply(data, "tptz", "GetNodes")))
    for node in nodes or []:
        for spaces in node.spaces.values():
            assert all(sp.x.lo <= sp.x.hi for sp in spaces)


@st.composite
def fault_reply(draw):
    prefix = draw(st.sampled_from(["env", "s", "SOAP-ENV", "soap"]))
    codes = draw(st.lists(st.one_of(st.sampled_from(["env:Sender", "env:Receiver", "ter:NotAuthorized",
                                                      "ter:InvalidArgVal", "x:y", ""]), xml_text),
                          max_size=4))
    code = ""
    for c in reversed(codes[1:]):
        code = f"<{prefix}:Subcode><{prefix}:Value>{escape(c)}</{prefix}:Value>{code}</{prefix}:Subcode>"
    if codes:
        code = f"<{prefix}:Value>{escape(codes[0])}</{prefix}:Value>{code}"
    reason = escape(draw(xml_text))
    return (f'<{prefix}:Envelope xmlns:{prefix}="{soap.NS["env"]}" xmlns:ter="{soap.NS["ter"]}">'
            f"<{prefix}:Body><{prefix}:Fault><{prefix}:Code>{code}</{prefix}:Code><{prefix}:Reason>"
            f"<{prefix}:Text>{reason}</{prefix}:Text></{prefix}:Reason></{prefix}:Fault></{prefix}:Body>"
            f"</{prefix}:Envelope>").encode()


@MANY
@given(fault_reply())
def test_faults_in_any_spelling_are_refusals(data):
    with pytest.raises(DeviceRejected) as info:
        soap.read_reply(data, "tptz", "GetStatus")
    assert str(info.value)
    fault = soap.reply_fault(data)
    assert fault is not None and info.value.code == fault.code
    assert not fault.code.startswith(("s:", "SOAP-ENV:", "soap:"))   # every prefix named as env:


def test_a_dtd_is_refused_before_parsing():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            + wrap("<tptz:GetStatusResponse>&lol2;</tptz:GetStatusResponse>"))
    with pytest.raises(ProtocolError, match="DTD"):
        soap.read_reply(bomb, "tptz", "GetStatus")


# -- junk over a real socket, through the HTTP layer -------------------------------------------

class JunkServer:
    """Answers every request with ``self.reply`` and closes the connection."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.reply = b""
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    head, _, body = data.partition(b"\r\n\r\n")
                    length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                    while len(body) < length:
                        body += conn.recv(65536)
                    conn.sendall(self.reply)
                except (OSError, ValueError, IndexError):
                    pass

    def close(self):
        self.sock.close()


@pytest.fixture
def junk_server():
    server = JunkServer()
    yield server
    server.close()


http_reply = st.one_of(
    st.binary(max_size=300),
    st.tuples(st.sampled_from([200, 400, 401, 500, 503, 302, 99]), st.binary(max_size=300)).map(
        lambda t: b"HTTP/1.1 %d X\r\nContent-Type: application/soap+xml\r\nContent-Length: %d\r\n\r\n" % (
            t[0], len(t[1])) + t[1]),
    st.tuples(st.integers(0, 2000), status_reply()).map(
        lambda t: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % t[0] + t[1]),   # a length that lies
)


@SOME
@given(reply=http_reply)
def test_junk_over_http_is_only_driver_errors(sim_cam, junk_server, reply):
    sim, cam = sim_cam
    cam.link = HttpLink("http", "127.0.0.1", junk_server.port, timeout_s=0.5)
    junk_server.reply = reply
    only_driver_errors(cam.position)
    only_driver_errors(cam.recall, 1)


# -- the simulator, too, answers anything with an answer ---------------------------------------

@st.composite
def request(draw):
    op = draw(st.sampled_from(["tds:GetSystemDateAndTime", "tds:GetServices", "tptz:GetStatus",
                               "tptz:AbsoluteMove", "tptz:SetPreset", "tptz:ContinuousMove", "trt:GetStreamUri"]))
    token = "".join(f"<wsse:{k}>{escape(draw(value))}</wsse:{k}>" for k in ("Username", "Password", "Nonce")
                    if draw(st.booleans()))
    inner = "".join(f"<{op.split(':')[0]}:{k}>{escape(draw(value))}</{op.split(':')[0]}:{k}>"
                    for k in ("ProfileToken", "PresetName", "PresetToken", "Timeout") if draw(st.booleans()))
    vec = f'<tt:PanTilt x={quoteattr(draw(value))} y={quoteattr(draw(value))}/>' if draw(st.booleans()) else ""
    return (f'<env:Envelope {NSDECL}><env:Header><wsse:Security><wsse:UsernameToken>{token}'
            f'</wsse:UsernameToken></wsse:Security></env:Header><env:Body><{op}>{inner}'
            f'<tptz:Position>{vec}</tptz:Position><tptz:Velocity>{vec}</tptz:Velocity></{op}></env:Body>'
            f'</env:Envelope>').encode()


@MANY
@given(data=st.one_of(st.binary(max_size=200), request()))
def test_the_simulator_answers_every_request(data):
    sim = OnvifCameraSimulator(boot_s=0.0)      # not started: handle() is the service without its HTTP
    status, reply = sim.handle(data)
    assert status in (200, 400, 500)
    if status != 200:
        assert soap.reply_fault(reply) is not None        # a fault the driver can read
