"""Framing: Sony's 8-byte VISCA-over-IP header, and splitting a byte stream on ``FF``.

Pure functions and a small stateful splitter; no I/O.
"""
from __future__ import annotations

import struct
from typing import NamedTuple

from vksroom.drivers.errors import ProtocolError
from vksroom.drivers.visca.messages import MAX_PACKET, TERMINATOR, hexs

COMMAND = 0x0100
INQUIRY = 0x0110
REPLY = 0x0111
DEVICE_SETTING = 0x0120
CONTROL = 0x0200
CONTROL_REPLY = 0x0201
PAYLOAD_TYPES = {COMMAND, INQUIRY, REPLY, DEVICE_SETTING, CONTROL, CONTROL_REPLY}

HEADER = struct.Struct(">HHI")
SEQUENCE_MAX = 0xFFFFFFFF

RESET_PAYLOAD = b"\x01"
ERR_SEQUENCE = b"\x0f\x01"   # sequence number wrong (on a resend: it already ran)
ERR_TYPE = b"\x0f\x02"       # message type wrong


class IpMessage(NamedTuple):
    """One decoded datagram (a tuple: cheap to make, one per datagram received)."""

    type: int
    seq: int
    payload: bytes


def ip_pack(ptype: int, seq: int, payload: bytes) -> bytes:
    if not 1 <= len(payload) <= 16:
        raise ProtocolError(f"VISCA-over-IP payload must be 1-16 bytes, got {len(payload)}")
    return HEADER.pack(ptype, len(payload), seq & SEQUENCE_MAX) + payload


def ip_unpack(datagram: bytes) -> IpMessage:
    """Decode one datagram. Raises :class:`ProtocolError` naming what is wrong."""
    size = len(datagram) - HEADER.size
    if size < 1:
        raise ProtocolError(f"datagram {hexs(datagram) or '(empty)'} is shorter than the 8-byte header plus payload")
    ptype, length, seq = HEADER.unpack_from(datagram)
    if ptype not in PAYLOAD_TYPES:
        raise ProtocolError(f"datagram has unknown payload type {ptype:04X}")
    if length != size or length > 16:
        raise ProtocolError(f"datagram header says {length} payload bytes but {size} follow")
    return _new_message(IpMessage, (ptype, seq, bytes(datagram[HEADER.size:])))


_new_message = tuple.__new__   # IpMessage(...) without its Python-level __new__: one per datagram


class Splitter:
    """Cut a byte stream (TCP, serial, raw UDP) into packets ending in ``FF``.

    Bytes that cannot start a packet and runs longer than 16 bytes without ``FF`` are
    discarded and reported as garbage, so one bad burst never desynchronises the stream.
    """

    def __init__(self):
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[str, bytes]]:
        """Returns ``[("packet", bytes) | ("garbage", bytes), ...]`` in arrival order."""
        self._buf += data
        out: list[tuple[str, bytes]] = []
        while self._buf:
            # a packet starts with a header byte (bit 7 set, not FF)
            start = 0
            while start < len(self._buf) and not (0x80 <= self._buf[start] < TERMINATOR):
                start += 1
            if start:
                out.append(("garbage", bytes(self._buf[:start])))
                del self._buf[:start]
                continue
            end = self._buf.find(TERMINATOR)
            if end < 0 and len(self._buf) < MAX_PACKET:
                break
            if end < 0 or end + 1 > MAX_PACKET:
                # no terminator where one must be: drop up to the next header candidate
                nxt = next((i for i in range(1, len(self._buf)) if 0x80 <= self._buf[i] < TERMINATOR),
                           len(self._buf))
                out.append(("garbage", bytes(self._buf[:nxt])))
                del self._buf[:nxt]
                continue
            out.append(("packet", bytes(self._buf[:end + 1])))
            del self._buf[:end + 1]
        return out

    def clear(self) -> None:
        self._buf.clear()

    @property
    def pending(self) -> bytes:
        return bytes(self._buf)
