"""Biamp Tesira Text Protocol (TTP) over RS-232 (TesiraFORTE: 115200 8N1) or raw TCP.

``InstanceTag get|set|subscribe|unsubscribe attribute [index] [value]``; answers
``+OK`` (with ``"value":...``) or ``-ERR ...``; subscriptions publish
``! "publishToken":"<label>" "value":<v>`` lines. Instance tags are per design, so they
are settings: ``mute_block`` (default ``Mixer1``, attribute ``inputMute``),
``gain_block`` (``Mixer1``, ``inputLevel``) and ``meter_block`` (``Meter1``, ``level``).
Each channel's mute is subscribed (``vks_mute_<n>``: published at once, then on every change,
a press on the DSP itself included) and each channel's meter at the stream's rate
(``vks_meter_<n>``). Subscriptions die with the session or a reboot, so they are made again
after a reconnect (and by ``resume``). A mixer that refuses the mute subscription has its
mutes read instead (``pushes_mutes`` false).
"""
from __future__ import annotations

import re

from vksroom.drivers.audio.base import AudioDevice
from vksroom.drivers.errors import ConfigError, DeviceRejected, ProtocolError
from vksroom.drivers.line import LineClient
from vksroom.drivers.transport import Transport

_VALUE = re.compile(r'^\+OK "value":(.+)$')
_PUBLISH = re.compile(r'^! "publishToken":"([^"]+)" "value":(\S+)')
_TAG = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
TOKEN = "vks_meter_"
MUTE_TOKEN = "vks_mute_"


class TesiraDsp(AudioDevice):
    model = "tesira"

    def __init__(self, transport: Transport, channels: list[int] | None = None, mute_block: str = "Mixer1",
                 mute_attribute: str = "inputMute", gain_block: str = "Mixer1", gain_attribute: str = "inputLevel",
                 meter_block: str = "Meter1", meter_attribute: str = "level", meter_rate_ms: int = 100,
                 timeout: float = 3.0, **line_options):
        for name, tag in (("mute_block", mute_block), ("gain_block", gain_block), ("meter_block", meter_block),
                          ("mute_attribute", mute_attribute), ("gain_attribute", gain_attribute),
                          ("meter_attribute", meter_attribute)):
            if not _TAG.match(tag or ""):
                raise ConfigError(f"{name}: {tag!r} is not a Tesira instance tag or attribute")
        self.mute = (mute_block, mute_attribute)
        self.gain = (gain_block, gain_attribute)
        self.meter = (meter_block, meter_attribute)
        line = LineClient(transport, terminator=b"\n", eol="\n", on_connect=self._setup, on_event=self._on_line,
                          name=f"tesira at {transport.describe()}", **line_options)
        super().__init__(line, channels, meter_rate_ms, timeout)

    def _setup(self, line: LineClient) -> None:
        self._resume()

    def _ttp(self, text: str) -> str:
        """Send one TTP command; return the text after ``+OK`` or raise on ``-ERR``."""
        lines = self.line.request(text, end=lambda l: True, accept=lambda l: l.startswith(("+OK", "-ERR")),
                                  timeout=self.timeout)
        reply = lines[-1]
        if reply.startswith("-ERR"):
            raise DeviceRejected(f"DSP refused {text!r}: {reply[4:].strip()}", reply[4:].strip().split(" ")[0])
        return reply

    def _get(self, block: tuple[str, str], index: int) -> str:
        reply = self._ttp(f"{block[0]} get {block[1]} {self._check_index(index)}")
        m = _VALUE.match(reply)
        if not m:
            raise ProtocolError(f"DSP answered {reply!r} to a get of {block[0]} {block[1]} {index}: no value")
        return m.group(1).strip()

    def get_mute(self, index: int) -> bool:
        value = self._get(self.mute, index)
        if value not in ("true", "false"):
            raise ProtocolError(f"DSP gave {value!r} for the mute of channel {index} (expected true/false)")
        self._muted(index, value == "true")
        return value == "true"

    def set_mute(self, index: int, muted: bool) -> None:
        self._ttp(f"{self.mute[0]} set {self.mute[1]} {self._check_index(index)} {'true' if muted else 'false'}")
        self._muted(index, bool(muted))

    def get_gain(self, index: int) -> float:
        return _number(self._get(self.gain, index), f"gain of channel {index}")

    def set_gain(self, index: int, db: float) -> None:
        if not isinstance(db, (int, float)) or isinstance(db, bool) or not -100.0 <= db <= 12.0:
            raise ConfigError(f"gain must be -100..12 dB, got {db!r}")
        self._ttp(f"{self.gain[0]} set {self.gain[1]} {self._check_index(index)} {db:.1f}")

    def get_level(self, index: int) -> float:
        db = _number(self._get(self.meter, index), f"level of channel {index}")
        self._sample(index, db)
        return db

    def _watch_mutes(self) -> None:
        try:
            for ch in self.channels:     # the subscription's first publish is the mute now
                self._ttp(f"{self.mute[0]} subscribe {self.mute[1]} {ch} {MUTE_TOKEN}{ch}")
            self.pushes_mutes = True
        except DeviceRejected:
            self.pushes_mutes = False
        if not self.pushes_mutes or any(ch not in self.mutes for ch in self.channels):
            super()._watch_mutes()

    def _start_stream(self) -> None:
        for ch in self.channels:
            self._ttp(f"{self.meter[0]} subscribe {self.meter[1]} {ch} {TOKEN}{ch} {self.stream_ms}")

    def _stop_stream(self) -> None:
        for ch in self.channels:
            self._ttp(f"{self.meter[0]} unsubscribe {self.meter[1]} {ch} {TOKEN}{ch}")

    def _on_line(self, line: str) -> None:
        m = _PUBLISH.match(line)
        if not m:
            return
        label, value = m.groups()
        if label.startswith(TOKEN):
            try:
                index, db = int(label[len(TOKEN):]), float(value)
            except ValueError:
                return      # a garbled publish line: skip it, the next one comes soon
            self._stream({index: db})
        elif label.startswith(MUTE_TOKEN) and label[len(MUTE_TOKEN):].isdigit() and value in ("true", "false"):
            self._muted(int(label[len(MUTE_TOKEN):]), value == "true")


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ProtocolError(f"DSP gave {text!r} for the {what}: not a number") from None
