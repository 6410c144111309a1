"""Cisco xAPI over RS-232 in terminal mode (TelePresence / Room / Webex devices).

Session set-up after every (re)connect: log in when the port asks (``login:`` /
``Password:``), ``echo off``, ``xPreferences OutputMode Terminal``, then feedback
registration for call status, call disconnect events, diagnostics and microphone mute.

Reply layouts (see PROTOCOLS.md): ``xStatus`` answers ``*s`` lines, ``** end``, ``OK``;
``xCommand`` answers ``OK``, ``*r <Name>Result (status=OK|Error):``, indented fields,
``** end``; unknown input answers ``Command not recognized.``. Feedback arrives as
``*s``/``*e`` lines closed by ``** end``.
"""
from __future__ import annotations

import re

from vksroom.drivers.codec import base
from vksroom.drivers.codec.base import Codec
from vksroom.drivers.codec.quality import CallQuality, loss_pct, number
from vksroom.drivers.errors import DeviceRejected, ProtocolError
from vksroom.drivers.line import LineClient, login
from vksroom.drivers.transport import Transport

FEEDBACK = ("/Status/Call", "/Event/CallDisconnect", "/Status/Diagnostics", "/Status/Audio/Microphones/Mute",
            "/Status/SystemUnit/State")

_STATES = {
    "idle": base.IDLE, "dialling": base.DIALLING, "ringing": base.RINGING, "connecting": base.CONNECTING,
    "earlymedia": base.CONNECTING, "connected": base.CONNECTED, "onhold": base.CONNECTED,
    "disconnecting": base.DISCONNECTING, "preserved": base.CONNECTED, "remotepreserved": base.CONNECTED,
}
_CAUSES = {
    "remotebusy": base.BUSY, "localbusy": base.BUSY, "remotenoanswer": base.NO_ANSWER,
    "remotedisconnect": base.REMOTE_HANGUP, "localdisconnect": base.LOCAL_HANGUP,
    "remoterejected": base.REJECTED, "localreject": base.REJECTED, "networkrejected": base.REJECTED,
    "unknownremotesite": base.UNREACHABLE,
}
_CALL = re.compile(r"^\*s Call (\d+) (\w+): ?(.*)$")
_GHOST = re.compile(r"^\*s Call (\d+) \(ghost=True\)")
_DIAG = re.compile(r"^\*s Diagnostics Message (\d+) (\w+): ?(.*)$")
_DIAG_GHOST = re.compile(r"^\*s Diagnostics Message (\d+) \(ghost=True\)")
_DISC = re.compile(r"^\*e CallDisconnect (\w+): ?(.*)$")
_MUTE = re.compile(r"^\*s Audio Microphones Mute: ?(\w+)")
_UNIT = re.compile(r"^\*s SystemUnit (.+?): ?(.*)$")
_MEDIA = re.compile(r"^\*s MediaChannels Call (\d+) Channel (\d+) (.+?): ?(.*)$")
_RESULT = re.compile(r"^\*r (\w+) \(status=(\w+)\)")
_FIELD = re.compile(r"^(\w+): ?(.*)$")
_ERRORS = ("ERROR", "Command not recognized.")


def _unquote(value: str) -> str:
    value = value.strip()
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


class CiscoCodec(Codec):
    model = "cisco"

    def __init__(self, transport: Transport, username: str = "admin", password: str = "",
                 timeout: float = 3.0, feedback: tuple[str, ...] = FEEDBACK, **line_options):
        self.username, self.password = username, password
        self.feedback = feedback
        self.unit: dict[str, str] = {}
        self._diag: dict[str, dict] = {}
        self._disconnect: dict[str, str] = {}       # fields of the CallDisconnect event being read
        self._causes: dict[str, tuple[str, str]] = {}  # call id -> cause, when it came before the call's end
        self._rates: dict[str, dict[str, str]] = {}    # call id -> ReceiveCallRate / TransmitCallRate (kbps)
        line = LineClient(transport, terminator=b"\n", prompts=("login:", "Password:"), eol="\n",
                          on_connect=self._setup, on_event=self._on_line, on_link=self._on_link,
                          name=f"cisco codec at {transport.describe()}", **line_options)
        super().__init__(line, timeout)

    # --- session ---------------------------------------------------------------------

    def _setup(self, line: LineClient) -> None:
        self.logged_in = False
        asked = login(line, self.username, self.password, first_line="echo off",
                      success=lambda l: l == "OK", timeout=self.timeout)
        self.logged_in = True
        if asked:
            self._plain("echo off")
        self._plain("xPreferences OutputMode Terminal")
        for path in self.feedback:
            self._plain(f"xFeedback register {path}")
        self.refresh_calls()
        self.refresh_diagnostics()
        self._status("Audio Microphones Mute")
        self.system_unit()

    def _on_link(self, up: bool, reason: str) -> None:
        if not up:
            self.logged_in = False
        self._emit({"kind": "link", "up": up, "reason": reason})

    def _plain(self, text: str) -> None:
        lines = self.line.request(text, end=lambda l: l == "OK" or l in _ERRORS, timeout=self.timeout)
        if lines[-1] != "OK":
            raise DeviceRejected(f"codec refused {text!r}: {lines[-1]}")

    # --- requests --------------------------------------------------------------------

    def _status(self, path: str) -> list[str]:
        lines = self.line.request(f"xStatus {path}", end=lambda l: l == "OK" or l in _ERRORS,
                                  accept=lambda l: not l.startswith("*e"), timeout=self.timeout)
        if lines[-1] != "OK":
            raise ProtocolError(f"codec did not understand 'xStatus {path}': {lines[-1]}")
        for l in lines:
            self._on_line(l)
        return lines

    def command(self, text: str) -> dict:
        """Run ``xCommand <text>``; return the result's fields. Raises DeviceRejected
        with the codec's reason when the result has ``status=Error``."""
        seen = {"r": False}

        def accept(l: str) -> bool:
            if l.startswith(("*s", "*e")):
                return False
            if l.startswith("*r"):
                seen["r"] = True
            return True

        lines = self.line.request(f"xCommand {text}", accept=accept,
                                  end=lambda l: (seen["r"] and l == "** end") or l in _ERRORS, timeout=self.timeout)
        if lines[-1] in _ERRORS:
            raise ProtocolError(f"codec did not understand 'xCommand {text}': {lines[-1]}")
        fields, status, name = {}, "OK", ""
        for l in lines:
            m = _RESULT.match(l)
            if m:
                name, status = m.group(1), m.group(2)
                continue
            m = _FIELD.match(l)
            if m:
                fields[m.group(1)] = _unquote(m.group(2))
        if status.lower() != "ok":
            reason = fields.get("Reason") or fields.get("Description") or status
            raise DeviceRejected(f"codec refused '{text}': {reason}", name or "error")
        return fields

    def refresh_calls(self) -> None:
        lines = self._status("Call")
        seen = {m.group(1) for m in map(_CALL.match, lines) if m}
        for call_id in list(self.calls):
            if call_id not in seen:
                self._call_ended(call_id)

    def refresh_diagnostics(self) -> list[dict]:
        self._diag.clear()
        self._status("Diagnostics")
        self.diagnostics_known = True
        self._publish_diagnostics()
        return self.diagnostics

    def refresh(self) -> dict:
        self.refresh_calls()
        return self.status()

    def call_quality(self) -> CallQuality | None:
        """``xStatus MediaChannels``: one row per channel (keyed by call and channel id,
        classified by its Direction and Type), mapped to the neutral model."""
        call = self.connected_call()
        if call is None:
            return None
        if number(self._rates.get(call.id, {}).get("ReceiveCallRate")) in (None, 0.0):
            self._status(f"Call {call.id}")          # the negotiated rates, once the call is up
        rows: dict[str, dict[str, str]] = {}
        for line in self._status(f"MediaChannels Call {call.id}"):
            m = _MEDIA.match(line)
            if m and m.group(1) == call.id:
                rows.setdefault(m.group(2), {})[m.group(3)] = _unquote(m.group(4))
        return media_quality(call.id, list(rows.values()), self._rates.get(call.id, {}))

    def dial(self, number: str) -> str:
        if not number or any(c in number for c in "\r\n\""):
            raise DeviceRejected(f"not a number to dial: {number!r}", "bad_number")
        fields = self.command(f'Dial Number: "{number}"')
        call_id = fields.get("CallId")
        if not call_id:
            raise ProtocolError(f"codec accepted the dial to {number} but named no CallId")
        self._call_update(call_id, remote=number, direction="outgoing")
        return call_id

    def hangup(self, call_id: str | None = None) -> None:
        self.command("Call Disconnect" + (f" CallId: {call_id}" if call_id else ""))

    def set_mic_mute(self, muted: bool) -> None:
        self.command("Audio Microphones " + ("Mute" if muted else "Unmute"))
        self.mic_muted = muted

    def set_selfview(self, on: bool) -> None:
        self.command(f"Video Selfview Set Mode: {'On' if on else 'Off'}")

    def system_unit(self) -> dict:
        """Product, software version, state... (``xStatus SystemUnit``), also kept in ``unit``."""
        self._status("SystemUnit")
        return dict(self.unit)

    def status(self) -> dict:
        return {**super().status(), "product": self.unit.get("ProductId", ""),
                "software": self.unit.get("Software Version", ""), "unit_state": self.unit.get("State System", "")}

    # --- feedback --------------------------------------------------------------------

    def _on_line(self, line: str) -> None:
        m = _CALL.match(line)
        if m:
            call_id, key, value = m.group(1), m.group(2), _unquote(m.group(3))
            if key == "Status":
                state = _STATES.get(value.lower())
                if state == base.IDLE:
                    self._call_ended(call_id)
                elif state:
                    self._call_update(call_id, state=state)
            elif key == "RemoteNumber":
                self._call_update(call_id, remote=value)
            elif key == "Direction":
                self._call_update(call_id, direction=value.lower())
            elif key in ("ReceiveCallRate", "TransmitCallRate"):
                self._rates.setdefault(call_id, {})[key] = value
            return
        m = _GHOST.match(line)
        if m:
            self._call_ended(m.group(1), *self._causes.pop(m.group(1), ("", "")))
            return
        m = _DISC.match(line)
        if m:
            self._disconnect[m.group(1)] = _unquote(m.group(2))
            return
        if line == "** end" and self._disconnect:
            self._disconnect_done()
            return
        m = _DIAG.match(line)
        if m:
            entry = self._diag.setdefault(m.group(1), {})
            entry[m.group(2).lower()] = _unquote(m.group(3))
            self._publish_diagnostics()
            return
        m = _DIAG_GHOST.match(line)
        if m:
            self._diag.pop(m.group(1), None)
            self._publish_diagnostics()
            return
        m = _UNIT.match(line)
        if m:
            key, value = m.group(1), _unquote(m.group(2))
            if key == "State System" and self.unit.get(key) not in (None, value):
                self._emit({"kind": "unit", "state": value})
            self.unit[key] = value
            return
        m = _MUTE.match(line)
        if m:
            muted = m.group(1).lower() == "on"
            if muted != self.mic_muted:
                self.mic_muted = muted
                self._emit({"kind": "mute", "muted": muted})
            return

    def _disconnect_done(self) -> None:
        fields, self._disconnect = self._disconnect, {}
        call_id, cause = fields.get("CallId", ""), self._cause(fields)
        if not call_id or not cause[0]:
            return
        if call_id in self.ended:
            self._call_ended(call_id, *cause)
        else:
            self._causes[call_id] = cause
            while len(self._causes) > 20:
                self._causes.pop(next(iter(self._causes)))

    @staticmethod
    def _cause(fields: dict) -> tuple[str, str]:
        kind = fields.get("CauseType", "")
        if not kind:
            return "", ""
        return _CAUSES.get(kind.lower(), base.FAILED), fields.get("CauseString", kind)

    def _publish_diagnostics(self) -> None:
        msgs = [{"level": d.get("level", "Ok"), "type": d.get("type", ""), "description": d.get("description", "")}
                for d in self._diag.values()]
        if msgs != self.diagnostics:
            self.diagnostics = msgs
            self._emit({"kind": "diagnostics", "level": self.diagnostics_level, "messages": msgs})


def media_quality(call_id: str, channels: list[dict[str, str]], rates: dict[str, str]) -> CallQuality:
    """Cisco media channel rows (``{"Direction": "Incoming", "Type": "Video", "Netstat Jitter": "3"...}``)
    as one :class:`CallQuality`. Loss is the last interval's (``LastIntervalLost`` against
    ``LastIntervalReceived``); ``ChannelRate`` is in bit/s; the main video is the channel whose
    ``Video ChannelRole`` is ``Main`` (or has none)."""
    def of(direction: str, kind: str | None = None) -> list[dict[str, str]]:
        return [c for c in channels if c.get("Direction", "").lower() == direction
                and (kind is None or c.get("Type", "").lower() == kind)]

    def loss(rows) -> float | None:
        lost = sum(number(c.get("Netstat LastIntervalLost")) or 0 for c in rows)
        got = sum(number(c.get("Netstat LastIntervalReceived")) or 0 for c in rows)
        return loss_pct(lost, got) if rows else None

    def kbps(rows) -> float | None:
        rates_ = [number(c.get("Netstat ChannelRate")) for c in rows]
        known = [r for r in rates_ if r is not None]
        return round(sum(known) / 1000.0, 1) if known else None

    incoming, outgoing = of("incoming"), of("outgoing")
    jitters = [j for j in (number(c.get("Netstat Jitter")) for c in incoming) if j is not None]
    video = next((c for c in of("incoming", "video")
                  if c.get("Video ChannelRole", "Main").lower() == "main"
                  and c.get("Video Protocol", "").lower() != "off"), None)
    audio = [c for c in of("incoming", "audio") if c.get("Audio Protocol", "").lower() != "off"]
    width = number(video.get("Video ResolutionX")) if video else None
    height = number(video.get("Video ResolutionY")) if video else None
    return CallQuality(
        call_id, rx_loss_pct=loss(incoming), tx_loss_pct=loss(outgoing),
        jitter_ms=max(jitters) if jitters else None, rx_kbps=kbps(incoming), tx_kbps=kbps(outgoing),
        negotiated_kbps=number(rates.get("ReceiveCallRate")),
        rx_width=int(width) if width is not None else None, rx_height=int(height) if height is not None else None,
        rx_fps=number(video.get("Video FrameRate")) if video else None,
        rx_audio=any((number(c.get("Netstat LastIntervalReceived")) or 0) > 0 for c in audio) if audio else False,
        video_protocol=video.get("Video Protocol", "") if video else "",
        audio_protocol=audio[0].get("Audio Protocol", "") if audio else "")
