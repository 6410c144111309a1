"""Poly (Polycom) Group Series API over RS-232 (Control mode) or telnet-style TCP.

Session set-up: answer ``Password:`` if asked, ``callstate register`` (answers
``callstate registered``), ``getcallstate`` to resynchronise, ``mute near get``.
Call progress arrives as ``cs: call[34] chan[0] dialstr[...] state[RINGING]``
(ALLOCATED, RINGING, COMPLETE), ``active: call[34] speed [384]``, ``cleared: call[34]``
and ``ended: call[34]``. A ``state[BUSY]`` line, where the codec sends one, names a busy
far end; otherwise a call that ends while ringing is read as "no answer".
"""
from __future__ import annotations

import re

from vksroom.drivers.codec import base
from vksroom.drivers.codec.base import Codec
from vksroom.drivers.codec.quality import FORMAT_SIZES, CallQuality, number
from vksroom.drivers.errors import DeviceRejected, DeviceTimeout
from vksroom.drivers.line import LineClient, login
from vksroom.drivers.transport import Transport

_CS = re.compile(r"^cs: call\[(\d+)\].*?dialstr\[([^\]]*)\].*?state\[(\w+)\]", re.I)
_ACTIVE = re.compile(r"^active: call\[(\d+)\]", re.I)
_END = re.compile(r"^(cleared|ended): call\[(\d+)\]", re.I)
_MUTE = re.compile(r"^mute near (on|off)$", re.I)
_STATES = {"allocated": base.DIALLING, "ringing": base.RINGING, "complete": base.CONNECTED,
           "connected": base.CONNECTED, "connecting": base.CONNECTING, "disconnecting": base.DISCONNECTING}
_ERROR = re.compile(r"^error", re.I)
_ASYNC = re.compile(r"^(cs|active|cleared|ended|callstate|dialstr\[)", re.I)
_DIALSTR = re.compile(r"^[A-Za-z0-9.@:_*#+-]{1,80}$")


class PolyCodec(Codec):
    model = "poly"

    def __init__(self, transport: Transport, password: str = "", speed: int = 384, timeout: float = 3.0,
                 call_type: str = "", **line_options):
        self.password = password
        self.speed = int(speed)
        self.call_type = call_type           # h323 | sip | "" (codec default)
        self._busy: set[str] = set()
        self._hanging: set[str] = set()
        line = LineClient(transport, terminator=b"\n", prompts=("Password:",), eol="\r\n",
                          on_connect=self._setup, on_event=self._on_line, on_link=self._on_link,
                          name=f"poly codec at {transport.describe()}", **line_options)
        super().__init__(line, timeout)

    def _setup(self, line: LineClient) -> None:
        self.logged_in = False
        registered = lambda l: l == "callstate registered"
        asked = login(line, None, self.password, first_line="callstate register", user_prompt="",
                      success=lambda l: registered(l) or l.lower().startswith("welcome"), timeout=self.timeout)
        self.logged_in = True
        if asked:
            self._ask("callstate register", registered)
        self.refresh_calls()
        self.refresh()

    def _on_link(self, up: bool, reason: str) -> None:
        if not up:
            self.logged_in = False
        self._emit({"kind": "link", "up": up, "reason": reason})

    def _ask(self, text: str, answer, accept=None) -> list[str]:
        lines = self.line.request(text, end=lambda l: answer(l) or bool(_ERROR.match(l)), accept=accept,
                                  timeout=self.timeout)
        if _ERROR.match(lines[-1]):
            raise DeviceRejected(f"codec refused {text!r}: {lines[-1]}")
        return lines

    def refresh_calls(self) -> None:
        lines = self._ask("getcallstate", lambda l: l == "system is not in a call" or bool(_CS.match(l)),
                          accept=lambda l: l == "system is not in a call" or bool(_CS.match(l) or _ERROR.match(l)))
        if lines[-1] == "system is not in a call":
            self._calls_cleared()
        for l in lines:
            self._on_line(l)

    def refresh(self) -> dict:
        for l in self._ask("mute near get", lambda l: bool(_MUTE.match(l)),
                           accept=lambda l: bool(_MUTE.match(l) or _ERROR.match(l))):
            self._on_line(l)
        return self.status()

    def _stats(self, command: str, last_key: str) -> dict[str, str]:
        """``netstats`` / ``advnetstats``: ``key:value`` pairs over one or more lines, the
        reply's last line holding ``last_key:`` (``rcp:`` / ``ccaps:``)."""
        def last(l: str) -> bool:
            return l == "system is not in a call" or any(t.lower().startswith(last_key + ":") for t in l.split())

        lines = self._ask(command, last,
                          accept=lambda l: not _ASYNC.match(l))
        pairs: dict[str, str] = {}
        for line in lines:
            for token in line.split():
                key, sep, value = token.partition(":")
                if sep:
                    pairs.setdefault(key.lower(), value)
        return pairs

    def call_quality(self) -> CallQuality | None:
        """``netstats`` (call rate, %pktloss, formats) and ``advnetstats`` (rates used, frame
        rates, jitter) for the connected call, mapped to the neutral model."""
        call = self.connected_call()
        if call is None:
            return None
        net = self._stats("netstats", "rcp")
        adv = self._stats("advnetstats", "ccaps")
        if not net and not adv:
            return None
        return poly_quality(call.id, net, adv)

    def dial(self, number: str) -> str:
        if not _DIALSTR.match(number or ""):
            raise DeviceRejected(f"not a number to dial: {number!r}", "bad_number")
        with self._cond:
            known = set(self.calls) | set(self.ended)
        self._ask(f"dial manual {self.speed} {number}" + (f" {self.call_type}" if self.call_type else ""),
                  lambda l: l.lower().startswith("dialing"))

        def new_call():
            return next((c for c in list(self.calls.values()) + list(self.ended.values())
                         if c.id not in known and c.remote == number), None)

        with self._cond:
            if not self._cond.wait_for(lambda: new_call() is not None, self.timeout):
                raise DeviceTimeout(f"codec accepted the dial to {number} but reported no call within "
                                    f"{self.timeout:g} s")
            return new_call().id

    def hangup(self, call_id: str | None = None) -> None:
        with self._cond:
            targets = [call_id] if call_id else list(self.calls)
            if call_id and call_id not in self.calls:
                raise DeviceRejected(f"no call {call_id} to hang up", "no_call")
            self._hanging.update(targets)
        what = f"video {call_id}" if call_id else "all"
        self._ask(f"hangup {what}", lambda l: l.lower().startswith("hanging up"))

    def set_mic_mute(self, muted: bool) -> None:
        self._ask(f"mute near {'on' if muted else 'off'}", lambda l: bool(_MUTE.match(l)),
                  accept=lambda l: bool(_MUTE.match(l) or _ERROR.match(l)))
        self.mic_muted = muted

    def _on_line(self, line: str) -> None:
        m = _CS.match(line)
        if m:
            call_id, dialstr, state = m.group(1), m.group(2), m.group(3).lower()
            if state == "busy":
                self._busy.add(call_id)
                self._call_update(call_id, remote=dialstr)
            else:
                self._call_update(call_id, state=_STATES.get(state), remote=dialstr)
            return
        m = _ACTIVE.match(line)
        if m:
            self._call_update(m.group(1), state=base.CONNECTED)
            return
        m = _END.match(line)
        if m:
            call_id = m.group(2)
            with self._cond:
                call = self.calls.get(call_id)
                state = call.state if call else ""
                was_connected = bool(call and call.connected_at)
            if call is None:
                return
            if call_id in self._hanging:
                cause = base.LOCAL_HANGUP
            elif call_id in self._busy:
                cause = base.BUSY
            elif was_connected:
                cause = base.REMOTE_HANGUP
            elif state in (base.RINGING, base.DIALLING, base.CONNECTING):
                cause = base.NO_ANSWER
            else:
                cause = base.FAILED
            self._hanging.discard(call_id)
            self._busy.discard(call_id)
            self._call_ended(call_id, cause, line)
            return
        m = _MUTE.match(line)
        if m:
            self.mic_muted = m.group(1).lower() == "on"
            return
        if _ERROR.match(line):
            self._emit({"kind": "error", "reason": f"codec reported: {line}"})


def poly_quality(call_id: str, net: dict[str, str], adv: dict[str, str]) -> CallQuality:
    """Poly statistics (keys lower-cased) as one :class:`CallQuality`. Poly reports one loss
    percentage for the call (``%pktloss``): it stands for received loss; ``tapl``/``tvpl``
    are counts, not shares, so sent loss stays unknown."""
    def total(*keys: str) -> float | None:
        vals = [number(adv.get(k)) for k in keys]
        known = [v for v in vals if v is not None]
        return round(sum(known), 1) if known else None

    jitters = [j for j in (number(adv.get(k)) for k in ("raj", "rvj")) if j is not None]
    size = FORMAT_SIZES.get(net.get("rvf", "").lower())
    rap = net.get("rap", adv.get("rap", ""))
    rar = number(adv.get("rar"))
    return CallQuality(
        call_id, rx_loss_pct=number(net.get("%pktloss")), tx_loss_pct=None,
        jitter_ms=max(jitters) if jitters else None,
        rx_kbps=total("rar", "rvru"), tx_kbps=total("tar", "tvru"),
        negotiated_kbps=number(net.get("rxrate")),
        rx_width=size[0] if size else None, rx_height=size[1] if size else None,
        rx_fps=number(adv.get("rvfr")),
        rx_audio=bool(rar) and rap.lower() not in ("", "off", "none"),
        video_protocol=net.get("rvp", ""), audio_protocol=rap)
