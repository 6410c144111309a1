"""The 8-byte VISCA-over-IP header and splitting a stream on FF."""
import pytest

from vksroom.drivers.errors import ProtocolError
from vksroom.drivers.visca import framing


def test_ip_header_round_trip():
    pkt = bytes.fromhex("81090400FF")
    data = framing.ip_pack(framing.INQUIRY, 0xFFFFFFFF, pkt)
    assert data[:8] == bytes.fromhex("0110 0005 FFFFFFFF".replace(" ", ""))
    msg = framing.ip_unpack(data)
    assert (msg.type, msg.seq, msg.payload) == (framing.INQUIRY, 0xFFFFFFFF, pkt)


@pytest.mark.parametrize("raw,words", [
    ("", "shorter"), ("01110003000000", "shorter"), ("0999000100000001 01", "payload type"),
    ("0111000500000001 9041FF", "says 5"), ("0111001100000001" + "00" * 17, "says 17"),
])
def test_bad_datagrams_are_refused(raw, words):
    with pytest.raises(ProtocolError, match=words):
        framing.ip_unpack(bytes.fromhex(raw.replace(" ", "")))


def test_splitter_cuts_packets_across_reads():
    s = framing.Splitter()
    assert s.feed(bytes.fromhex("9041")) == []
    assert s.feed(bytes.fromhex("FF9051FF90")) == [("packet", bytes.fromhex("9041FF")), ("packet", bytes.fromhex("9051FF"))]
    assert s.pending == b"\x90"


def test_splitter_resynchronises_after_garbage():
    s = framing.Splitter()
    out = s.feed(bytes.fromhex("0102 03 9041FF"))
    assert out == [("garbage", bytes.fromhex("010203")), ("packet", bytes.fromhex("9041FF"))]
    # a run of 16+ bytes with no terminator is dropped, then the next packet is read
    out = s.feed(bytes.fromhex("90" + "11" * 20) + bytes.fromhex("9051FF"))
    assert out[-1] == ("packet", bytes.fromhex("9051FF"))
    assert all(kind == "garbage" for kind, _ in out[:-1])
