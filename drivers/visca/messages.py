"""VISCA messages: encoding and decoding, pure (no I/O).

A *packet* is what travels: header byte, 1-14 message bytes, terminator ``FF``.
Builders here return whole packets for camera address ``addr`` (1-7; 8 broadcast) and
refuse out-of-range values with :class:`ConfigError` before anything can be sent.
:func:`parse_reply` turns one packet from a camera into a typed :class:`Reply` or
raises :class:`ProtocolError` naming what is wrong with it.
"""
from __future__ import annotations

from dataclasses import dataclass

from vksroom.drivers.errors import ConfigError, DeviceRejected, ProtocolError

TERMINATOR = 0xFF
MAX_PACKET = 16
MIN_PACKET = 3

ERRORS = {
    0x01: "message length error",
    0x02: "syntax error or illegal parameter",
    0x03: "command buffer full (both sockets busy)",
    0x04: "command cancelled",
    0x05: "no socket to cancel",
    0x41: "command not executable now: powering up, in standby or busy",
}

DIRECTIONS = {
    "up": (0x03, 0x01), "down": (0x03, 0x02), "left": (0x01, 0x03), "right": (0x02, 0x03),
    "up-left": (0x01, 0x01), "up-right": (0x02, 0x01), "down-left": (0x01, 0x02),
    "down-right": (0x02, 0x02), "stop": (0x03, 0x03),
}
DIRECTION_NAMES = {v: k for k, v in DIRECTIONS.items()}

PAN_SPEED_MAX = 0x18
TILT_SPEED_MAX = 0x17
ZOOM_MAX = 0x7FFF          # protocol limit of 4 nibbles used by real cameras (EVI-D70: 7AC0)
PRESET_MAX = 254


def hexs(data: bytes) -> str:
    return data.hex(" ").upper()


# --- value checks (raise before anything is sent) -------------------------------------

def _int(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(f"{name} {value} is out of range {lo}..{hi}")
    return value


def check_address(addr: int, broadcast: bool = False) -> int:
    return _int("camera address", addr, 1, 8 if broadcast else 7)


def nibbles(value: int, count: int = 4, signed: bool = True) -> bytes:
    """``0x1234`` -> ``01 02 03 04``; negative values in two's complement."""
    bits = 4 * count
    if signed:
        _int("position", value, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    value &= (1 << bits) - 1
    return bytes((value >> (4 * (count - 1 - i))) & 0x0F for i in range(count))


def from_nibbles(data: bytes, signed: bool = True) -> int:
    """Inverse of :func:`nibbles`; raises :class:`ProtocolError` when a byte is not a nibble."""
    if any(b > 0x0F for b in data):
        raise ProtocolError(f"position bytes {hexs(data)} are not one nibble per byte")
    value = 0
    for b in data:
        value = (value << 4) | b
    bits = 4 * len(data)
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def packet(addr: int, *body: int, broadcast: bool = False) -> bytes:
    check_address(addr, broadcast)
    out = bytes([0x80 | addr, *body, TERMINATOR])
    if len(out) > MAX_PACKET:
        raise ConfigError(f"message of {len(out)} bytes is longer than VISCA allows ({MAX_PACKET})")
    return out


# --- commands ----------------------------------------------------------------------------

def power(addr: int, on: bool) -> bytes:
    return packet(addr, 0x01, 0x04, 0x00, 0x02 if on else 0x03)


def pan_tilt_drive(addr: int, direction: str, pan_speed: int, tilt_speed: int, stop_speed: int = 1) -> bytes:
    if direction not in DIRECTIONS:
        raise ConfigError(f"unknown direction {direction!r} (use {', '.join(DIRECTIONS)})")
    if direction == "stop":
        # Some cameras answer error 02 to a Stop whose speed bytes are 00: send >= 1.
        pan_speed = pan_speed or stop_speed
        tilt_speed = tilt_speed or stop_speed
    lo = 0 if direction == "stop" else 1
    _int("pan speed", pan_speed, lo, PAN_SPEED_MAX)
    _int("tilt speed", tilt_speed, lo, TILT_SPEED_MAX)
    a, b = DIRECTIONS[direction]
    return packet(addr, 0x01, 0x06, 0x01, pan_speed, tilt_speed, a, b)


def pan_tilt_position(addr: int, pan: int, tilt: int, pan_speed: int, tilt_speed: int, relative: bool) -> bytes:
    _int("pan speed", pan_speed, 1, PAN_SPEED_MAX)
    _int("tilt speed", tilt_speed, 1, TILT_SPEED_MAX)
    _int("pan", pan, -0x8000, 0x7FFF)
    _int("tilt", tilt, -0x8000, 0x7FFF)
    return packet(addr, 0x01, 0x06, 0x03 if relative else 0x02, pan_speed, tilt_speed, *nibbles(pan), *nibbles(tilt))


def home(addr: int) -> bytes:
    return packet(addr, 0x01, 0x06, 0x04)


def pan_tilt_reset(addr: int) -> bytes:
    return packet(addr, 0x01, 0x06, 0x05)


def zoom(addr: int, direction: str, speed: int | None = None) -> bytes:
    """``direction`` stop|tele|wide; ``speed`` 0-7 for variable speed, None for standard."""
    codes = {"stop": 0x00, "tele": 0x02, "wide": 0x03}
    if direction not in codes:
        raise ConfigError(f"unknown zoom direction {direction!r} (use stop, tele or wide)")
    code = codes[direction]
    if speed is not None and direction != "stop":
        code = (0x20 if direction == "tele" else 0x30) | _int("zoom speed", speed, 0, 7)
    return packet(addr, 0x01, 0x04, 0x07, code)


def zoom_direct(addr: int, position: int, maximum: int = ZOOM_MAX) -> bytes:
    _int("zoom position", position, 0, maximum)
    return packet(addr, 0x01, 0x04, 0x47, *nibbles(position, signed=False))


FOCUS = {
    "auto": (0x38, 0x02), "manual": (0x38, 0x03), "one-push": (0x18, 0x01),
    "stop": (0x08, 0x00), "far": (0x08, 0x02), "near": (0x08, 0x03),
}


def focus(addr: int, action: str) -> bytes:
    if action not in FOCUS:
        raise ConfigError(f"unknown focus action {action!r} (use {', '.join(FOCUS)})")
    return packet(addr, 0x01, 0x04, *FOCUS[action])


def preset(addr: int, action: str, number: int, count: int = PRESET_MAX + 1) -> bytes:
    codes = {"reset": 0x00, "set": 0x01, "recall": 0x02}
    if action not in codes:
        raise ConfigError(f"unknown preset action {action!r} (use reset, set or recall)")
    _int("preset number", number, 0, min(count, PRESET_MAX + 1) - 1)
    return packet(addr, 0x01, 0x04, 0x3F, codes[action], number)


# CAM_Freeze: the camera holds one still picture on its output while the stream runs on.
# Sony FCB colour camera modules' command list: CAM_Freeze On 8x 01 04 62 02 FF, Off
# 8x 01 04 62 03 FF; inquiry list: CAM_FreezeModeInq 8x 09 04 62 FF -> y0 50 02 FF (on) /
# y0 50 03 FF (off). The same bytes in PTZOptics' and Sony BRC/SRG VISCA lists ("Image Freeze",
# BRC-H900) and Avonic's CM70 manual (Freeze ON/OFF immediately; 62 22 / 62 23: freeze while
# a preset runs). A camera without it answers error 02 (syntax error). See docs/visca.md.
def freeze(addr: int, on: bool) -> bytes:
    return packet(addr, 0x01, 0x04, 0x62, 0x02 if on else 0x03)


def if_clear(addr: int) -> bytes:
    return packet(addr, 0x01, 0x00, 0x01, broadcast=True)


def address_set() -> bytes:
    return bytes([0x88, 0x30, 0x01, TERMINATOR])


def cancel(addr: int, socket: int) -> bytes:
    return packet(addr, 0x20 | _int("socket", socket, 1, 2))


# --- inquiries ---------------------------------------------------------------------------

def power_inquiry(addr: int) -> bytes:
    return packet(addr, 0x09, 0x04, 0x00)


def pan_tilt_inquiry(addr: int) -> bytes:
    return packet(addr, 0x09, 0x06, 0x12)


def zoom_inquiry(addr: int) -> bytes:
    return packet(addr, 0x09, 0x04, 0x47)


def focus_mode_inquiry(addr: int) -> bytes:
    return packet(addr, 0x09, 0x04, 0x38)


def freeze_inquiry(addr: int) -> bytes:
    return packet(addr, 0x09, 0x04, 0x62)


def version_inquiry(addr: int) -> bytes:
    return packet(addr, 0x09, 0x00, 0x02)


def is_inquiry(pkt: bytes) -> bool:
    return len(pkt) > 1 and pkt[1] == 0x09


# --- replies -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    """One packet from a camera.

    ``kind``: ack | completion | error | network_change | address_set | if_clear.
    ``sender`` is the camera address (1-7) from the header; ``socket`` the VISCA socket
    (0-15); ``data`` the payload of an inquiry answer; ``code`` the VISCA error number.
    """

    kind: str
    sender: int
    socket: int = 0
    data: bytes = b""
    code: int = 0
    raw: bytes = b""

    def error(self, what: str = "command") -> DeviceRejected:
        name = ERRORS.get(self.code, "unknown error")
        return DeviceRejected(f"camera {self.sender} refused the {what}: VISCA error {self.code:02X} ({name})",
                              code=self.code)


_PARSED: dict[bytes, Reply] = {}   # packet -> its (immutable) Reply; ACKs, Completions, answers repeat
_PARSED_MAX = 512


def parse_reply(pkt: bytes) -> Reply:
    """Decode one packet (header .. FF). Raises :class:`ProtocolError` on anything malformed.

    Replies are immutable and the same few packets come again and again, so a decoded
    packet is remembered (up to ``_PARSED_MAX`` of them) and handed out again."""
    pkt = bytes(pkt)
    reply = _PARSED.get(pkt)
    if reply is None:
        reply = _parse_reply(pkt)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[pkt] = reply
    return reply


def _parse_reply(pkt: bytes) -> Reply:
    if len(pkt) < MIN_PACKET:
        raise ProtocolError(f"reply {hexs(pkt) or '(empty)'} is too short for a VISCA packet")
    if len(pkt) > MAX_PACKET:
        raise ProtocolError(f"reply of {len(pkt)} bytes is longer than VISCA allows ({MAX_PACKET})")
    if pkt[-1] != TERMINATOR:
        raise ProtocolError(f"reply {hexs(pkt)} does not end with FF")
    if TERMINATOR in pkt[:-1]:
        raise ProtocolError(f"reply {hexs(pkt)} holds more than one packet")
    head, body = pkt[0], pkt[1:-1]
    if head == 0x88:
        if body[:1] == b"\x30" and len(body) == 2 and 1 <= body[1] <= 8:
            return Reply("address_set", 0, data=body[1:], code=body[1], raw=pkt)
        if body == b"\x01\x00\x01":
            return Reply("if_clear", 0, raw=pkt)
        raise ProtocolError(f"unexpected broadcast reply {hexs(pkt)}")
    if head & 0x8F != 0x80 or not 0x90 <= head <= 0xF0:
        raise ProtocolError(f"reply {hexs(pkt)} has no camera reply header (90..F0)")
    sender = (head >> 4) - 8
    kind_nibble, sock = body[0] >> 4, body[0] & 0x0F
    if kind_nibble == 4 and len(body) == 1:
        return Reply("ack", sender, sock, raw=pkt)
    if kind_nibble == 5:
        return Reply("completion", sender, sock, data=body[1:], raw=pkt)
    if kind_nibble == 6 and len(body) == 2:
        return Reply("error", sender, sock, code=body[1], raw=pkt)
    if body == b"\x38":
        return Reply("network_change", sender, raw=pkt)
    raise ProtocolError(f"unknown reply {hexs(pkt)} from camera {sender}")


# --- inquiry answers ---------------------------------------------------------------------

def _expect(data: bytes, length: int, what: str) -> bytes:
    if len(data) != length:
        raise ProtocolError(f"{what} answer {hexs(data) or '(empty)'} has {len(data)} data bytes, expected {length}")
    return data


def _one_of(data: bytes, table: dict, what: str) -> str:
    _expect(data, 1, what)
    if data[0] not in table:
        choices = " nor ".join(f"{k:02X} ({v})" for k, v in table.items())
        raise ProtocolError(f"{what} answer {hexs(data)} is neither {choices}")
    return table[data[0]]


POWER_STATES = {0x02: "on", 0x03: "standby"}
FOCUS_MODES = {0x02: "auto", 0x03: "manual"}
FREEZE_STATES = {0x02: "on", 0x03: "off"}


def decode_power(data: bytes) -> str:
    state = POWER_STATES.get(data[0]) if len(data) == 1 else None   # the usual answer: one look-up
    return state or _one_of(data, POWER_STATES, "power inquiry")


def decode_pan_tilt(data: bytes) -> tuple[int, int]:
    _expect(data, 8, "pan-tilt position inquiry")
    return from_nibbles(data[:4]), from_nibbles(data[4:])


def decode_zoom(data: bytes) -> int:
    return from_nibbles(_expect(data, 4, "zoom position inquiry"), signed=False)


def decode_focus_mode(data: bytes) -> str:
    return _one_of(data, FOCUS_MODES, "focus mode inquiry")


def decode_freeze(data: bytes) -> str:
    return _one_of(data, FREEZE_STATES, "freeze inquiry")


def decode_version(data: bytes) -> dict:
    _expect(data, 7, "version inquiry")
    return {
        "vendor": f"{int.from_bytes(data[0:2], 'big'):04X}",
        "model": f"{int.from_bytes(data[2:4], 'big'):04X}",
        "rom": f"{int.from_bytes(data[4:6], 'big'):04X}",
        "sockets": data[6],
    }
