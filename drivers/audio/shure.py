"""Shure microphone systems (MXA910, P300, ULX-D, SCM820) by command strings on TCP 2202.

Frames are ``< GET|SET|REP|SAMPLE ... >`` with no line end; ``< REP ERR >`` answers
malformed input. ``AUDIO_GAIN_HI_RES`` is 0000-1400 in tenths of a dB with offset 1100;
``AUDIO_IN_RMS_LVL`` and the ``< SAMPLE aaa bbb ... >`` meter stream are 000-060, read
here as dBFS (value - 60). The device also sends an unsolicited REP on every change (a
mute pressed on the microphone itself included), so its mutes are known without asking.
"""
from __future__ import annotations

import re

from vksroom.drivers.audio.base import AudioDevice
from vksroom.drivers.errors import ConfigError, DeviceRejected, ProtocolError
from vksroom.drivers.line import LineClient
from vksroom.drivers.transport import Transport

_REP = re.compile(r"^REP (\d+) (\w+) (.+)$")
GAIN_OFFSET = 1100
LEVEL_OFFSET = 60


class ShureMic(AudioDevice):
    model = "shure"
    pushes_mutes = True

    def __init__(self, transport: Transport, channels: list[int] | None = None, meter_rate_ms: int = 100,
                 timeout: float = 3.0, **line_options):
        line = LineClient(transport, terminator=b">", frame_start=b"<", eol=" >", on_connect=self._setup,
                          on_event=self._on_line, name=f"shure at {transport.describe()}", **line_options)
        super().__init__(line, channels, meter_rate_ms, timeout)

    def _setup(self, line: LineClient) -> None:
        self._resume()

    def _ask(self, text: str, expect: str) -> str:
        """Send ``< text >``; return the value of ``REP <expect> <value>``."""
        def mine(l: str) -> bool:
            return l == "REP ERR" or l.startswith(f"REP {expect} ")

        lines = self.line.request(f"< {text}", end=mine, accept=mine, timeout=self.timeout)
        if lines[-1] == "REP ERR":
            raise DeviceRejected(f"microphone refused '< {text} >' (REP ERR)", "ERR")
        return lines[-1][len(f"REP {expect} "):].strip()

    def get_mute(self, index: int) -> bool:
        return self._mute_value(index, self._ask(f"GET {self._check_index(index)} AUDIO_MUTE",
                                                 f"{index} AUDIO_MUTE"))

    def set_mute(self, index: int, muted: bool) -> None:
        value = self._ask(f"SET {self._check_index(index)} AUDIO_MUTE {'ON' if muted else 'OFF'}",
                          f"{index} AUDIO_MUTE")
        self._mute_value(index, value)

    def _mute_value(self, index: int, value: str) -> bool:
        if value not in ("ON", "OFF"):
            raise ProtocolError(f"microphone gave {value!r} for the mute of channel {index} (expected ON/OFF)")
        self._muted(index, value == "ON")
        return value == "ON"

    def get_gain(self, index: int) -> float:
        value = self._ask(f"GET {self._check_index(index)} AUDIO_GAIN_HI_RES", f"{index} AUDIO_GAIN_HI_RES")
        return (_int(value, f"gain of channel {index}") - GAIN_OFFSET) / 10.0

    def set_gain(self, index: int, db: float) -> None:
        if not isinstance(db, (int, float)) or isinstance(db, bool) or not -110.0 <= db <= 30.0:
            raise ConfigError(f"gain must be -110..30 dB, got {db!r}")
        raw = int(round(db * 10)) + GAIN_OFFSET
        self._ask(f"SET {self._check_index(index)} AUDIO_GAIN_HI_RES {raw:04d}", f"{index} AUDIO_GAIN_HI_RES")

    def get_level(self, index: int) -> float:
        value = self._ask(f"GET {self._check_index(index)} AUDIO_IN_RMS_LVL", f"{index} AUDIO_IN_RMS_LVL")
        db = float(_int(value, f"level of channel {index}") - LEVEL_OFFSET)
        self._sample(index, db)
        return db

    def _start_stream(self) -> None:
        self._ask(f"SET METER_RATE {self.stream_ms:05d}", "METER_RATE")

    def _stop_stream(self) -> None:
        self._ask("SET METER_RATE 00000", "METER_RATE")

    def _on_line(self, line: str) -> None:
        if line.startswith("SAMPLE "):
            values = line.split()[1:]
            self._stream({index: float(int(raw) - LEVEL_OFFSET) for index, raw in enumerate(values, 1)
                          if index in self._samples and raw.isdigit()})
            return
        m = _REP.match(line)
        if m and m.group(2) == "AUDIO_MUTE" and m.group(3) in ("ON", "OFF"):
            self._muted(int(m.group(1)), m.group(3) == "ON")


def _int(text: str, what: str) -> int:
    if not text.isdigit():
        raise ProtocolError(f"microphone gave {text!r} for the {what}: not a number")
    return int(text)
