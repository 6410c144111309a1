"""Reply parsing fuzzed: random bytes, truncated packets, wrong terminators, wrong sequence
numbers. Never an uncaught exception, always a clear error, and the stream resynchronises."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vksroom.drivers.errors import DeviceError, ProtocolError
from vksroom.drivers.transport import MockTransport
from vksroom.drivers.visca import framing, messages
from vksroom.drivers.visca.engine import Engine, Settings
from vksroom.drivers.visca.links import IpLink, RawLink, events

MANY = settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOME = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

GOOD = [bytes.fromhex(h) for h in ("9041FF", "9052FF", "906141FF", "905002FF", "9050000102030F0E0D0CFF", "9038FF")]
good_reply = st.sampled_from(GOOD)
junk = st.binary(max_size=40)


def decoded_or_clear_error(decode, data):
    """``decode(data)``, or None after checking the ProtocolError says something."""
    try:
        return decode(data)
    except ProtocolError as exc:
        assert str(exc)
        return None


@MANY
@given(st.binary(max_size=24))
def test_parse_reply_random_bytes(data):
    reply = decoded_or_clear_error(messages.parse_reply, data)
    if reply is not None:
        assert reply.kind in ("ack", "completion", "error", "network_change", "address_set", "if_clear")
        assert data[-1] == 0xFF and 3 <= len(data) <= 16


@MANY
@given(good_reply, st.integers(min_value=1, max_value=8), st.integers(min_value=0, max_value=255))
def test_truncated_and_misterminated_packets(pkt, cut, last):
    with pytest.raises(ProtocolError):
        messages.parse_reply(pkt[:-cut] if cut < len(pkt) else b"")
    if last != 0xFF:
        with pytest.raises(ProtocolError, match="FF"):
            messages.parse_reply(pkt[:-1] + bytes([last]))


@MANY
@given(st.binary(max_size=30))
def test_ip_unpack_random_datagrams(data):
    msg = decoded_or_clear_error(framing.ip_unpack, data)
    assert msg is None or 1 <= len(msg.payload) <= 16


@MANY
@given(junk, good_reply)
def test_stream_resynchronises_after_any_junk(noise, pkt):
    splitter = framing.Splitter()
    out = events(splitter, noise)
    out += events(splitter, pkt)
    assert all(kind in ("reply", "garbage") for kind, _ in out)
    # whatever came before, the good packet is read as itself
    assert out[-1] == ("reply", messages.parse_reply(pkt))


@MANY
@given(st.lists(st.binary(max_size=12), max_size=6))
def test_stream_of_random_chunks_never_raises(chunks):
    splitter = framing.Splitter()
    for chunk in chunks:
        for kind, value in events(splitter, chunk):
            assert kind in ("reply", "garbage")
    assert len(splitter.pending) < messages.MAX_PACKET


def _engine(responder, datagram=False, link_cls=RawLink):
    t = MockTransport(responder=responder, datagram=datagram)
    t.open()
    return Engine(link_cls(t), Settings(ack_timeout=0.002, retries=1, completion_timeout=0.01,
                                        completion_probe=0.005, completion_grace=0.002, busy_retries=0))


@SOME
@given(junk)
def test_inquiry_with_junk_before_the_answer(noise):
    """Junk then the answer: the answer, or (when the junk itself reads as a VISCA reply) a
    clear error for this inquiry; either way the next inquiry reads cleanly."""
    eng = _engine(lambda pkt: noise + b"\xff" + bytes.fromhex("905002FF"))
    try:
        assert messages.decode_power(eng.inquiry(messages.power_inquiry(1), "power inquiry")) == "on"
    except DeviceError as exc:
        assert "power inquiry" in str(exc) or "VISCA error" in str(exc)
    eng.link.transport.responder = lambda pkt: bytes.fromhex("905003FF")
    assert messages.decode_power(eng.inquiry(messages.power_inquiry(1), "power inquiry")) == "standby"


@SOME
@given(junk)
def test_only_junk_is_a_clear_device_error(noise):
    eng = _engine(lambda pkt: noise)
    try:
        eng.command(messages.home(1), "home")
    except DeviceError as exc:
        assert "home" in str(exc)
    # the next exchange on the same link works once the camera answers properly
    eng.link.transport.responder = lambda pkt: bytes.fromhex("9041FF9051FF")
    assert eng.command(messages.home(1), "home").completion_known


@SOME
@given(st.lists(st.tuples(st.integers(0, 2**32 - 1), st.sampled_from(GOOD + [b"\x0f\x01", b"\x01"]),
                          st.sampled_from([framing.REPLY, framing.CONTROL_REPLY, 0x0999])), max_size=5),
       junk)
def test_ip_replies_with_wrong_sequence_numbers_are_ignored(noise_replies, noise):
    """Stale replies (other sequence numbers), junk datagrams and bad types before the real
    answer: the inquiry gets its own answer or a clear error, never a wrong value."""
    def responder(dgram):
        seq = framing.ip_unpack(dgram).seq
        out = []
        for nseq, payload, ptype in noise_replies:
            if nseq != seq:
                out.append(framing.HEADER.pack(ptype, len(payload), nseq) + payload)
        out.append(noise)
        out.append(framing.ip_pack(framing.REPLY, seq, bytes.fromhex("905003FF")))
        for d in out:
            t.feed(d)
        return None
    t = MockTransport(responder=responder, datagram=True)
    t.open()
    eng = Engine(IpLink(t), Settings(ack_timeout=0.01, retries=0))
    try:
        assert messages.decode_power(eng.inquiry(messages.power_inquiry(1), "power inquiry")) == "standby"
    except DeviceError as exc:
        # a junk datagram that reads as a reply with our own sequence number is an error
        assert "power inquiry" in str(exc)
