"""Encoding and decoding of VISCA messages: pure, no I/O."""
import pytest

from vksroom.drivers.errors import ConfigError, DeviceRejected, ProtocolError
from vksroom.drivers.visca import messages as m


def test_commands_match_the_fact_sheet():
    assert m.power(1, True) == bytes.fromhex("8101040002FF")
    assert m.power(1, False) == bytes.fromhex("8101040003FF")
    assert m.pan_tilt_drive(1, "up", 5, 6) == bytes.fromhex("810106010506 0301 FF".replace(" ", ""))
    assert m.pan_tilt_drive(2, "down-right", 0x18, 0x17) == bytes.fromhex("82010601181702 02FF".replace(" ", ""))
    assert m.pan_tilt_position(1, -0x08DB, 0x04B0, 0x18, 0x14, relative=False) == bytes.fromhex(
        "8101060218140F07020500040B00FF")
    assert m.pan_tilt_position(1, 16, -1, 1, 1, relative=True)[3] == 0x03
    assert m.home(1) == bytes.fromhex("81010604FF")
    assert m.pan_tilt_reset(1) == bytes.fromhex("81010605FF")
    assert m.zoom(1, "stop") == bytes.fromhex("8101040700FF")
    assert m.zoom(1, "tele", 7) == bytes.fromhex("8101040727FF")
    assert m.zoom(1, "wide", 0) == bytes.fromhex("8101040730FF")
    assert m.zoom_direct(1, 0x4000) == bytes.fromhex("810104470400 0000FF".replace(" ", ""))
    assert m.focus(1, "one-push") == bytes.fromhex("8101041801FF")
    assert m.preset(1, "recall", 5) == bytes.fromhex("8101043F0205FF")
    assert m.preset(1, "set", 0) == bytes.fromhex("8101043F0100FF")
    assert m.if_clear(8) == bytes.fromhex("88010001FF")
    assert m.address_set() == bytes.fromhex("883001FF")
    assert m.power_inquiry(1) == bytes.fromhex("81090400FF")
    assert m.pan_tilt_inquiry(1) == bytes.fromhex("81090612FF")
    assert m.version_inquiry(3) == bytes.fromhex("83090002FF")


def test_stop_is_sent_with_speed_at_least_one():
    assert m.pan_tilt_drive(1, "stop", 0, 0) == bytes.fromhex("8101060101010303FF")


@pytest.mark.parametrize("call", [
    lambda: m.pan_tilt_drive(1, "up", 0, 1),
    lambda: m.pan_tilt_drive(1, "up", 0x19, 1),
    lambda: m.pan_tilt_drive(1, "up", 1, 0x18),
    lambda: m.pan_tilt_drive(1, "sideways", 1, 1),
    lambda: m.pan_tilt_position(1, 0x8000, 0, 1, 1, False),
    lambda: m.zoom_direct(1, -1),
    lambda: m.zoom_direct(1, 0x8000),
    lambda: m.zoom(1, "tele", 8),
    lambda: m.preset(1, "recall", 255),
    lambda: m.preset(1, "recall", 6, count=6),
    lambda: m.power(0, True),
    lambda: m.power(8, True),
    lambda: m.focus(1, "sharp"),
    lambda: m.pan_tilt_position(1, 1.5, 0, 1, 1, False),
])
def test_values_out_of_range_are_refused(call):
    with pytest.raises(ConfigError):
        call()


@pytest.mark.parametrize("value", [0, 1, -1, 0x7FFF, -0x8000, 0x08DB, -0x08DB, 1234])
def test_nibbles_round_trip(value):
    assert m.from_nibbles(m.nibbles(value)) == value


def test_replies_are_typed():
    assert m.parse_reply(bytes.fromhex("9041FF")) == m.Reply("ack", 1, 1, raw=bytes.fromhex("9041FF"))
    done = m.parse_reply(bytes.fromhex("9052FF"))
    assert (done.kind, done.socket, done.sender) == ("completion", 2, 1)
    answer = m.parse_reply(bytes.fromhex("B05002FF"))
    assert (answer.kind, answer.sender, answer.data) == ("completion", 3, b"\x02")
    err = m.parse_reply(bytes.fromhex("906141FF"))
    assert (err.kind, err.code, err.socket) == ("error", 0x41, 1)
    assert m.parse_reply(bytes.fromhex("9038FF")).kind == "network_change"
    assert m.parse_reply(bytes.fromhex("883003FF")).code == 3
    assert m.parse_reply(bytes.fromhex("88010001FF")).kind == "if_clear"


@pytest.mark.parametrize("code,words", [(0x01, "length"), (0x02, "syntax"), (0x03, "buffer full"),
                                        (0x04, "cancelled"), (0x05, "no socket"), (0x41, "not executable")])
def test_visca_errors_are_named(code, words):
    exc = m.parse_reply(bytes([0x90, 0x61, code, 0xFF])).error("recall preset 1")
    assert isinstance(exc, DeviceRejected)
    assert exc.code == code
    assert f"VISCA error {code:02X}" in str(exc) and words in str(exc) and "recall preset 1" in str(exc)


@pytest.mark.parametrize("raw,words", [
    ("", "too short"), ("90FF", "too short"), ("904141", "does not end with FF"),
    ("81090400FF", "no camera reply header"), ("90FF41FF", "more than one packet"),
    ("90" + "00" * 15 + "FF", "longer"), ("9077FF", "unknown reply"), ("884444FF", "broadcast"),
])
def test_malformed_replies_raise_protocol_error(raw, words):
    with pytest.raises(ProtocolError, match=words):
        m.parse_reply(bytes.fromhex(raw))


def test_inquiry_answers_decode_and_check_length():
    assert m.decode_power(b"\x02") == "on" and m.decode_power(b"\x03") == "standby"
    assert m.decode_pan_tilt(m.nibbles(-100) + m.nibbles(200)) == (-100, 200)
    assert m.decode_zoom(m.nibbles(0x4000, signed=False)) == 0x4000
    assert m.decode_version(bytes.fromhex("00200511010202")) == {
        "vendor": "0020", "model": "0511", "rom": "0102", "sockets": 2}
    for fn, bad in ((m.decode_power, b"\x04"), (m.decode_power, b""), (m.decode_pan_tilt, b"\x00" * 7),
                    (m.decode_pan_tilt, b"\x10" * 8), (m.decode_zoom, b"\x00\x00\x00"),
                    (m.decode_version, b"\x00" * 6)):
        with pytest.raises(ProtocolError):
            fn(bad)
