"""Codec simulators on a pseudo-terminal: Cisco xAPI (terminal mode) and Poly Group Series.

The far end is scripted per number: ``answer`` (after ``answer_after_s``), ``no_answer``
(rings until ``ring_timeout_s``, then the call ends "no answer"), ``busy`` (ends "busy"
after ``busy_after_s``), ``drop`` (answers, then the far end hangs up after
``drop_after_s``), ``reject``. Unknown numbers get ``default_far_end``.

    sim = CiscoCodecSimulator(far_ends={"1002": "busy"}, username="admin", password="x").start()
    sim.url        # stable serial path for the driver (survives unplug/replug)
    sim.unplug(); sim.replug(); sim.send_garbage(); sim.reply_delay = 1.5; sim.stop()

Call statistics (Cisco ``xStatus MediaChannels``, Poly ``netstats``/``advnetstats``) follow
``media`` (the healthy figures) and the degradations in force, scripted by ``degrade``::

    sim.degrade("loss", 12.0, seconds=5)   # 12 % of received packets lost for 5 s
    sim.degrade("fps", 4.0)                # the far picture arrives at 4 frames/s until restore()
    sim.degrade("sound")                   # the far side's sound stops (no incoming audio packets)
    sim.degrade("frozen"); sim.degrade("black")   # the far picture freezes / goes black
    sim.degrade("blocky")                  # the far picture breaks into blocks (far-end output only)
    sim.restore()                          # everything healthy again

``far_video`` (a :class:`~vksroom.hil.video_stream.VideoStreamServer`, the codec's far-end
output as a capture would see it) freezes or goes black with the picture; ``far_audio``
(``(audio simulator, channel)``, the DSP input carrying the codec's return audio) goes
silent with the sound. ``script`` (or ``--degrade KIND[=VALUE]@AFTER[+SECONDS]`` on the
command line) repeats degradations at every call, AFTER seconds after it connects.

Run alone: ``python -m vksroom.hil.codec_sim --model cisco --far-end 1002=busy --degrade loss=15@10+20``.
"""
from __future__ import annotations

import argparse
import re
import time

from vksroom.hil.line_sim import LineSimulator, Session, run_cli

BEHAVIOURS = ("answer", "no_answer", "busy", "drop", "reject")
# what can go wrong with a call's media, and the figure each takes when no value is given
DEGRADATIONS = {"loss": 10.0, "jitter": 120.0, "fps": 5.0, "rate": 0.3, "sound": None, "frozen": None,
                "black": None, "blocky": None}
FAR_PICTURE = ("frozen", "black", "blocky")     # what the far-end video output shows too
HEALTHY = {"rx_loss_pct": 0.0, "tx_loss_pct": 0.0, "jitter_ms": 3.0, "fps": 30.0, "width": 1920, "height": 1080,
           "rate_share": 0.95}
PACKETS_PER_INTERVAL = {"video": 900, "audio": 250}

_CISCO_CAUSES = {  # behaviour -> (CauseValue, CauseType, CauseString)
    "busy": (17, "RemoteBusy", "User busy"),
    "no_answer": (19, "RemoteNoAnswer", "No answer"),
    "drop": (16, "RemoteDisconnect", "Normal call clearing"),
    "reject": (21, "RemoteRejected", "Call rejected"),
    "local": (16, "LocalDisconnect", "Normal call clearing"),
}


class _SimCall:
    def __init__(self, call_id: int, number: str, behaviour: str):
        self.id = call_id
        self.number = number
        self.behaviour = behaviour
        self.status = "Dialling"
        self.started = time.monotonic()
        self.connected_at: float | None = None


class CodecSimulatorBase(LineSimulator):
    """Far-end scripting and call timing shared by both codec models."""

    def __init__(self, far_ends: dict | None = None, default_far_end: str = "answer",
                 answer_after_s: float = 0.3, ring_timeout_s: float = 30.0, busy_after_s: float = 0.2,
                 drop_after_s: float = 2.0, diagnostics: list[dict] | None = None,
                 call_rate_kbps: int = 1920, far_video=None, far_audio: tuple | None = None,
                 script: list[tuple] | None = None, **kw):
        super().__init__(**kw)
        for number, behaviour in {**(far_ends or {}), "*": default_far_end}.items():
            if behaviour not in BEHAVIOURS:
                raise ValueError(f"far end {number}: behaviour must be one of {', '.join(BEHAVIOURS)}")
        self.far_ends = dict(far_ends or {})
        self.default_far_end = default_far_end
        self.answer_after_s = answer_after_s
        self.ring_timeout_s = ring_timeout_s
        self.busy_after_s = busy_after_s
        self.drop_after_s = drop_after_s
        self.diagnostics = list(diagnostics or [])
        self.calls: dict[int, _SimCall] = {}
        self.history: list[dict] = []        # ended calls: number, behaviour, cause
        self._next_call = 1
        self.mic_muted = False
        self.call_rate_kbps = call_rate_kbps
        self.media = dict(HEALTHY)
        self.degraded: dict[str, float | None] = {}      # kind -> its figure, while in force
        self.far_video = far_video
        self.far_audio = far_audio
        self.script = [tuple(x) for x in (script or [])]  # (kind, value, after_s, seconds)
        for entry in self.script:
            if entry[0] not in DEGRADATIONS:
                raise ValueError(f"script: unknown degradation {entry[0]!r}")

    # --- media and its degradations -------------------------------------------------

    def degrade(self, kind: str, value: float | None = None, seconds: float | None = None,
                after: float = 0.0) -> None:
        """Put degradation ``kind`` in force (after ``after`` s, for ``seconds`` s or until restored)."""
        if kind not in DEGRADATIONS:
            raise ValueError(f"degradation must be one of {', '.join(DEGRADATIONS)}, not {kind!r}")
        if after > 0:
            self.after(after, lambda: self.degrade(kind, value, seconds))
            return
        with self._lock:
            self.degraded[kind] = DEGRADATIONS[kind] if value is None else float(value)
            self._cond.notify_all()
        if kind in FAR_PICTURE and self.far_video is not None:
            self.far_video.set_fault(kind)
        if kind == "sound" and self.far_audio is not None:
            self.far_audio[0].set_signal(self.far_audio[1], "silence")
        if seconds:
            self.after(seconds, lambda: self.restore(kind))

    def restore(self, kind: str | None = None) -> None:
        """End degradation ``kind`` (every one when ``None``)."""
        with self._lock:
            kinds = list(self.degraded) if kind is None else [kind]
            for k in kinds:
                self.degraded.pop(k, None)
            self._cond.notify_all()
        if any(k in FAR_PICTURE for k in kinds) and self.far_video is not None and \
                not any(k in self.degraded for k in FAR_PICTURE):
            self.far_video.set_fault(None)
        if "sound" in kinds and self.far_audio is not None:
            self.far_audio[0].set_signal(self.far_audio[1], "speech")

    def figures(self) -> dict:
        """The media figures now: the healthy ones with every degradation in force applied."""
        with self._lock:
            d = dict(self.degraded)
        f = dict(self.media)
        f["audio"] = "sound" not in d
        if "loss" in d:
            f["rx_loss_pct"] = d["loss"]
        if "jitter" in d:
            f["jitter_ms"] = d["jitter"]
        if "fps" in d:
            f["fps"] = d["fps"]
        if "rate" in d:
            f["rate_share"] = d["rate"]
        if "frozen" in d:          # the far codec sends no new frames: the channel carries almost nothing
            f["fps"], f["rate_share"] = 0.0, 0.02
        return f

    def _script_call(self) -> None:
        for kind, value, after_s, seconds in self.script:
            self.degrade(kind, value, seconds, after=after_s)

    def dial(self, number: str) -> _SimCall:
        with self._lock:
            call = _SimCall(self._next_call, number, self.far_ends.get(number, self.default_far_end))
            self._next_call += 1
            self.calls[call.id] = call
        return call

    def progress(self, call: _SimCall) -> None:
        """Script the far end's behaviour for a call just placed."""
        self.after(0.05, lambda: self._set(call, "Connecting"))
        b = call.behaviour
        if b == "answer":
            self.after(self.answer_after_s, lambda: self._set(call, "Connected"))
        elif b == "drop":
            self.after(self.answer_after_s, lambda: self._set(call, "Connected"))
            self.after(self.answer_after_s + self.drop_after_s, lambda: self.end_call(call, "drop"))
        elif b == "no_answer":
            self.after(self.ring_timeout_s, lambda: self.end_call(call, "no_answer"))
        else:   # busy, reject
            self.after(self.busy_after_s, lambda: self.end_call(call, b))

    def _set(self, call: _SimCall, status: str) -> None:
        with self._lock:
            if call.id not in self.calls:
                return
            call.status = status
            if status == "Connected":
                call.connected_at = time.monotonic()
        if status == "Connected":
            self._script_call()
        self.on_call_status(call)

    def end_call(self, call: _SimCall, cause: str) -> None:
        with self._lock:
            if self.calls.pop(call.id, None) is None:
                return
            self.history.append({"number": call.number, "behaviour": call.behaviour, "cause": cause,
                                 "connected": call.connected_at is not None})
            self._cond.notify_all()
        self.on_call_ended(call, cause)

    def on_call_status(self, call: _SimCall) -> None: ...

    def on_call_ended(self, call: _SimCall, cause: str) -> None: ...

    def _unplug(self) -> None:
        super()._unplug()
        # the codec itself keeps running: calls in progress go on without us;
        # simplest faithful model for a test rig: an unplug does not end calls.


class CiscoCodecSimulator(CodecSimulatorBase):
    """Cisco xAPI on RS-232, terminal output mode, with ``SerialPort LoginRequired``."""

    link_name = "usb-Cisco_Codec_RS232-if00-port0"

    def __init__(self, username: str = "admin", password: str = "", login_required: bool = True,
                 product: str = "Cisco Webex Room Kit", software: str = "ce9.15.3", **kw):
        super().__init__(**kw)
        self.username, self.password = username, password
        self.login_required = login_required
        self.product, self.software = product, software
        self.selfview = False
        self.unit_state = "Initialized"

    # --- sessions --------------------------------------------------------------------

    def on_session(self, session: Session) -> None:
        session.state.update(logged_in=not self.login_required, stage=None, echo=True, feedback=set())

    def _prompt(self, session: Session, prompt: str, pre: str = "\r\n") -> None:
        self.send_text(session, pre + prompt + " ")

    def handle(self, session: Session, line: str) -> None:
        st = session.state
        if not st["logged_in"]:
            if st["stage"] is None:
                st["stage"] = "user"
                self._prompt(session, "login:")
            elif st["stage"] == "user":
                st["user"], st["stage"] = line.strip(), "password"
                self._prompt(session, "Password:", pre="")
            else:
                if st.get("user") == self.username and line == self.password:
                    st.update(logged_in=True, stage=None)
                    self.send(session, "", "*r Login successful", "", "OK")
                else:
                    st["stage"] = "user"
                    self.send(session, "", "Login incorrect", "")
                    self._prompt(session, "login:", pre="")
            return
        text = line.strip()
        if st["echo"] and text:
            self.send(session, text, delay=False)
        if not text:
            return
        reply = self._execute(session, text)
        if reply:
            self.send(session, *reply)

    def _execute(self, session: Session, text: str) -> list[str]:
        words = text.split()
        head = words[0].lower()
        if head == "echo" and len(words) == 2 and words[1].lower() in ("on", "off"):
            session.state["echo"] = words[1].lower() == "on"
            return ["OK"]
        if head == "xpreferences":
            return ["OK"]
        if head == "xfeedback" and len(words) >= 2:
            return self._feedback(session, words[1:])
        if head == "xstatus":
            return self._status(" ".join(words[1:])) + ["** end", "", "OK"]
        if head == "xcommand":
            return self._command(text.split(None, 1)[1] if len(words) > 1 else "")
        return ["Command not recognized."]

    def _feedback(self, session: Session, args: list[str]) -> list[str]:
        regs: set = session.state["feedback"]
        op = args[0].lower()
        if op == "register" and len(args) == 2:
            if len(regs) >= 38:
                return ["*r FeedbackRegisterResult (status=Error):", '    Reason: "Too many expressions"', "** end"]
            regs.add(args[1].rstrip("/").lower())
            return ["OK"]
        if op == "deregister" and len(args) == 2:
            regs.discard(args[1].rstrip("/").lower())
            return ["OK"]
        if op == "deregisterall":
            regs.clear()
            return ["OK"]
        if op == "list":
            return sorted(regs) + ["OK"]
        return ["Command not recognized."]

    # --- status ----------------------------------------------------------------------

    def _status(self, path: str) -> list[str]:
        p = path.lower().strip()
        out = []
        if p.startswith("call") or not p:
            with self._lock:
                calls = list(self.calls.values())
            for c in calls:
                out += self._call_lines(c, full=True)
        if p.startswith("mediachannels"):
            wanted = re.search(r"call (\d+)", p)
            with self._lock:
                calls = [c for c in self.calls.values() if c.connected_at is not None
                         and (wanted is None or str(c.id) == wanted.group(1))]
            for c in calls:
                out += self._media_lines(c)
        if p.startswith("diagnostics") or not p:
            out += self._diag_lines()
        if p.startswith("systemunit") or not p:
            out += [f'*s SystemUnit ProductId: "{self.product}"',
                    f'*s SystemUnit Software Version: "{self.software}"',
                    f"*s SystemUnit State System: {self.unit_state}",
                    f"*s SystemUnit Uptime: {int(time.monotonic()) % 1000000}"]
        if p.startswith("audio") or not p:
            out.append(f"*s Audio Microphones Mute: {'On' if self.mic_muted else 'Off'}")
        if p.startswith("video") or not p:
            out.append(f"*s Video Selfview Mode: {'On' if self.selfview else 'Off'}")
        return out

    def _call_lines(self, c: _SimCall, full: bool) -> list[str]:
        lines = [f"*s Call {c.id} Status: {c.status}"]
        if full:
            dur = int(time.monotonic() - c.connected_at) if c.connected_at else 0
            rate = self.call_rate_kbps if c.connected_at else 0
            lines = [f"*s Call {c.id} AnswerState: {'Answered' if c.connected_at else 'Unanswered'}",
                     f"*s Call {c.id} CallType: Video",
                     f"*s Call {c.id} Direction: Outgoing",
                     f"*s Call {c.id} ReceiveCallRate: {rate}",
                     f'*s Call {c.id} RemoteNumber: "{c.number}"'] + lines + \
                [f"*s Call {c.id} TransmitCallRate: {rate}", f"*s Call {c.id} Duration: {dur}"]
        return lines

    def _media_lines(self, c: _SimCall) -> list[str]:
        """CE/RoomOS-style media channel status: audio and main video, each way."""
        f = self.figures()
        video_kbps = max(0.0, self.call_rate_kbps * f["rate_share"] - 64)
        out = []
        for n, (direction, kind) in enumerate((("Incoming", "Audio"), ("Incoming", "Video"),
                                               ("Outgoing", "Audio"), ("Outgoing", "Video")), 1):
            ch = c.id * 100 + n
            incoming = direction == "Incoming"
            loss = f["rx_loss_pct"] if incoming else f["tx_loss_pct"]
            packets = PACKETS_PER_INTERVAL[kind.lower()]
            rate = 64000 if kind == "Audio" else int(video_kbps * 1000)
            if incoming and kind == "Audio" and not f["audio"]:
                packets, rate = 0, 0
            elif incoming and kind == "Video":
                packets = int(packets * f["rate_share"] / HEALTHY["rate_share"])
            lost = round(packets * loss / 100.0)
            row = f"*s MediaChannels Call {c.id} Channel {ch}"
            out += [f"{row} Direction: {direction}", f"{row} Type: {kind}"]
            if kind == "Audio":
                out += [f"{row} Audio Channels: 1", f"{row} Audio Mute: False", f"{row} Audio Protocol: Opus"]
            else:
                fps = f["fps"] if incoming else 30
                out += [f"{row} Video ChannelRole: Main", f"{row} Video FrameRate: {fps:g}",
                        f"{row} Video Protocol: H264", f"{row} Video ResolutionX: {f['width']}",
                        f"{row} Video ResolutionY: {f['height']}"]
            jitter = f["jitter_ms"] if incoming else HEALTHY["jitter_ms"]
            out += [f"{row} Netstat Bytes: {rate // 8 * 5}", f"{row} Netstat ChannelRate: {rate}",
                    f"{row} Netstat Drop: 0", f"{row} Netstat Jitter: {jitter:g}",
                    f"{row} Netstat LastIntervalLost: {lost}",
                    f"{row} Netstat LastIntervalReceived: {packets - lost}",
                    f"{row} Netstat Loss: {lost}", f"{row} Netstat MaxJitter: {jitter * 1.5:g}",
                    f"{row} Netstat Packets: {packets}"]
        return out

    def _diag_lines(self) -> list[str]:
        out = []
        for i, d in enumerate(self.diagnostics, 1):
            out += [f'*s Diagnostics Message {i} Description: "{d.get("description", "")}"',
                    f'*s Diagnostics Message {i} Level: {d.get("level", "Warning")}',
                    f'*s Diagnostics Message {i} References: "{d.get("references", "")}"',
                    f'*s Diagnostics Message {i} Type: {d.get("type", "Unknown")}']
        return out

    def set_unit_state(self, state: str) -> None:
        """``Initialized``, ``Initializing``, ``Sleeping``... pushed as feedback."""
        self.unit_state = state
        self._push("/status/systemunit/state", [f"*s SystemUnit State System: {state}"])

    def set_diagnostics(self, messages: list[dict]) -> None:
        """Change the diagnostics (``[{"level": "Error", "type": ..., "description": ...}]``)."""
        old = len(self.diagnostics)
        self.diagnostics = list(messages)
        lines = [f"*s Diagnostics Message {i} (ghost=True):" for i in range(len(messages) + 1, old + 1)]
        self._push("/status/diagnostics", lines + self._diag_lines())

    # --- commands --------------------------------------------------------------------

    def _command(self, rest: str) -> list[str]:
        name, args = _parse_command(rest)
        key = name.lower()
        if key == "dial":
            number = args.get("number", "")
            if not number:
                return _result("Dial", error='Missing or invalid parameter: Number')
            call = self.dial(number)
            self.after(0.0, lambda: self.progress(call))
            self._feedback_later(call)
            return _result("Dial", CallId=call.id, ConferenceId=call.id)
        if key == "call disconnect":
            with self._lock:
                targets = [c for c in self.calls.values()
                           if "callid" not in args or str(c.id) == args["callid"]]
            if not targets:
                return _result("CallDisconnect", error="No active call(s) found")
            for c in targets:
                self.after(0.05, lambda c=c: self.end_call(c, "local"))
            return _result("CallDisconnect")
        if key in ("audio microphones mute", "audio microphones unmute"):
            muted = key.endswith(" mute")
            changed = muted != self.mic_muted
            self.mic_muted = muted
            if changed:
                self.after(0.0, lambda: self._push("/status/audio/microphones/mute",
                                                   [f"*s Audio Microphones Mute: {'On' if muted else 'Off'}"]))
            return _result("AudioMicrophones" + ("Mute" if muted else "Unmute"))
        if key == "video selfview set":
            mode = args.get("mode", "").lower()
            if mode not in ("on", "off"):
                return _result("SelfviewSet", error="Missing or invalid parameter: Mode")
            self.selfview = mode == "on"
            return _result("SelfviewSet")
        if key == "peripherals connect":
            return _result("PeripheralsConnect") if args.get("id") else \
                _result("PeripheralsConnect", error="Missing or invalid parameter: ID")
        if key == "peripherals heartbeat":
            return _result("PeripheralsHeartBeat")
        return ["Command not recognized."]

    def _feedback_later(self, call: _SimCall) -> None:
        self.after(0.0, lambda: self.on_call_status(call))

    # --- feedback --------------------------------------------------------------------

    def _push(self, path: str, lines: list[str]) -> None:
        """Send feedback ``lines`` (closed by ``** end``) to sessions registered for ``path``."""
        if not lines:
            return
        for session in self.sessions:
            st = session.state
            if st.get("logged_in") and any(path.startswith(reg) or reg == "/status" and path.startswith("/status")
                                           for reg in st.get("feedback", ())):
                self.send(session, *lines, "** end", delay=False)

    def on_call_status(self, call: _SimCall) -> None:
        with self._lock:
            if call.id not in self.calls:
                return
        self._push("/status/call", self._call_lines(call, full=False))

    def on_call_ended(self, call: _SimCall, cause: str) -> None:
        value, ctype, text = _CISCO_CAUSES[cause]
        self._push("/event/calldisconnect", [
            f"*e CallDisconnect CauseValue: {value}", f'*e CallDisconnect CauseType: "{ctype}"',
            f'*e CallDisconnect CauseString: "{text}"', '*e CallDisconnect OrigCallDirection: "outgoing"',
            f'*e CallDisconnect RemoteURI: "{call.number}"', f"*e CallDisconnect CallId: {call.id}"])
        self._push("/status/call", [f"*s Call {call.id} (ghost=True):"])


def _parse_command(rest: str) -> tuple[str, dict]:
    """``Dial Number: "123" Protocol: Sip`` -> ("Dial", {"number": "123", "protocol": "Sip"})."""
    m = re.search(r"\b\w+:", rest)
    name = (rest[:m.start()] if m else rest).strip()
    args = {}
    for key, value in re.findall(r'(\w+):\s*("[^"]*"|\S+)', rest[m.start():] if m else ""):
        args[key.lower()] = value.strip('"')
    return re.sub(r"\s+", " ", name), args


def _result(name: str, error: str | None = None, **fields) -> list[str]:
    if error:
        return ["OK", f"*r {name}Result (status=Error):", f'    Reason: "{error}"', "** end"]
    return ["OK", f"*r {name}Result (status=OK):"] + [f"    {k}: {v}" for k, v in fields.items()] + ["** end"]


class PolyCodecSimulator(CodecSimulatorBase):
    """Poly/Polycom Group Series API on RS-232 in Control mode.

    Answers ``callstate register``, ``dial manual``, ``hangup``, ``mute near``,
    ``getcallstate``; asks ``Password:`` first when ``password`` is set.
    """

    link_name = "usb-Poly_Group_RS232-if00-port0"

    def __init__(self, password: str = "", speed: int = 1920, **kw):
        kw.setdefault("transport", "pty")
        kw.setdefault("call_rate_kbps", speed)
        super().__init__(**kw)
        self.password = password
        self.speed = speed

    def on_session(self, session: Session) -> None:
        session.state.update(logged_in=not self.password, callstate=False, prompted=False)

    def handle(self, session: Session, line: str) -> None:
        st = session.state
        text = line.strip()
        if not st["logged_in"]:
            if st["prompted"] and text == self.password:
                st["logged_in"] = True
                self.send(session, "Welcome")
            else:
                if st["prompted"]:
                    self.send(session, "Password incorrect")
                st["prompted"] = True
                self.send_text(session, "Password: ")
            return
        if not text:
            return
        self.send(session, *self._execute(session, text.split()))

    def _execute(self, session: Session, w: list[str]) -> list[str]:
        cmd = [x.lower() for x in w]
        if cmd[:2] == ["callstate", "register"]:
            session.state["callstate"] = True
            return ["callstate registered"]
        if cmd[:2] == ["callstate", "unregister"]:
            session.state["callstate"] = False
            return ["callstate unregistered"]
        if cmd[:1] == ["dial"] and len(w) >= 4 and cmd[1] == "manual":
            number = w[3].strip('"')
            call = self.dial(number)
            self.after(0.0, lambda: self._cs(call, "ALLOCATED"))
            self.after(0.0, lambda: self.progress(call))
            return ["dialing manual"]
        if cmd[:1] == ["dial"]:
            return ["error: command has illegal parameters"]
        if cmd[:1] == ["hangup"] and len(cmd) >= 2:
            with self._lock:
                targets = [c for c in self.calls.values() if len(cmd) < 3 or cmd[1] == "all" or str(c.id) == cmd[2]]
            for c in targets:
                self.after(0.05, lambda c=c: self.end_call(c, "local"))
            return [f"hanging up {cmd[1]}"]
        if cmd[:2] == ["mute", "near"] and len(cmd) == 3:
            if cmd[2] in ("on", "off"):
                self.mic_muted = cmd[2] == "on"
            elif cmd[2] == "toggle":
                self.mic_muted = not self.mic_muted
            elif cmd[2] != "get":
                return ["error: command has illegal parameters"]
            return [f"mute near {'on' if self.mic_muted else 'off'}"]
        if cmd == ["getcallstate"]:
            with self._lock:
                calls = list(self.calls.values())
            if not calls:
                return ["system is not in a call"]
            return [f"cs: call[{c.id}] speed[{self.speed}] dialstr[{c.number}] state[{_poly_state(c.status)}]"
                    for c in calls]
        if cmd[:1] in (["netstats"], ["advnetstats"]):
            with self._lock:
                up = [c for c in self.calls.values() if c.connected_at is not None]
            if not up:
                return ["system is not in a call"]
            return self._netstats() if cmd[0] == "netstats" else self._advnetstats()
        return ["error: command not found"]

    def _netstats(self) -> list[str]:
        f = self.figures()
        fmt = next((k for k, v in _FORMATS.items() if v == (f["width"], f["height"])), "1080p")
        lost = round(PACKETS_PER_INTERVAL["video"] * f["rx_loss_pct"] / 100.0)
        return [f"call:0 txrate:{self.speed}k rxrate:{self.speed}k pktloss:{lost} %pktloss:{f['rx_loss_pct']:.2f}%",
                f"tvp:H.264 rvp:H.264 tvf:1080p rvf:{fmt} tap:Siren22 rap:{'Siren22' if f['audio'] else 'none'}",
                "tcp:H.323 rcp:H.323"]

    def _advnetstats(self) -> list[str]:
        f = self.figures()
        video = max(0, int(self.speed * f["rate_share"]) - 64)
        rar = 64 if f["audio"] else 0
        lost = round(PACKETS_PER_INTERVAL["video"] * f["rx_loss_pct"] / 100.0)
        j = f["jitter_ms"]
        return [f"call:0 tar:64k rar:{rar}k tvr:{self.speed - 64}k rvr:{self.speed - 64}k tvru:{self.speed - 64}k "
                f"rvru:{video}k tvfr:30 rvfr:{f['fps']:g} vfe:0",
                f"tapl:0 rapl:{round(lost / 4)} taj:2mS raj:{j:g}mS tvpl:0 rvpl:{lost} tvj:2mS rvj:{j:g}mS",
                "ccaps:EncryptH.264 H.239"]

    def _cs(self, call: _SimCall, state: str) -> None:
        self._notify(f"cs: call[{call.id}] chan[0] dialstr[{call.number}] state[{state}]")

    def _notify(self, *lines: str) -> None:
        for session in self.sessions:
            if session.state.get("callstate") and session.state.get("logged_in"):
                self.send(session, *lines, delay=False)

    def on_call_status(self, call: _SimCall) -> None:
        if call.status == "Connecting":
            self._cs(call, "RINGING")
        elif call.status == "Connected":
            self._cs(call, "COMPLETE")
            self._notify(f"active: call[{call.id}] speed [{self.speed}]")

    def on_call_ended(self, call: _SimCall, cause: str) -> None:
        if cause == "busy":
            self._cs(call, "BUSY")
        self._notify(f"cleared: call[{call.id}]", f"dialstr[{call.number}]", f"ended: call[{call.id}]")


_FORMATS = {"720p": (1280, 720), "1080p": (1920, 1080), "4cif": (704, 576), "cif": (352, 288)}


def _poly_state(status: str) -> str:
    return {"Dialling": "ALLOCATED", "Connecting": "RINGING", "Connected": "COMPLETE"}.get(status, status.upper())


def _far_end(text: str) -> tuple[str, str]:
    number, _, behaviour = text.partition("=")
    if behaviour not in BEHAVIOURS:
        raise argparse.ArgumentTypeError(f"{text!r}: use NUMBER=BEHAVIOUR with one of {', '.join(BEHAVIOURS)}")
    return number, behaviour


def _degradation(text: str) -> tuple:
    """``KIND[=VALUE]@AFTER[+SECONDS]`` -> (kind, value, after_s, seconds)."""
    m = re.fullmatch(r"(\w+)(?:=([\d.]+))?@([\d.]+)(?:\+([\d.]+))?", text)
    if not m or m.group(1) not in DEGRADATIONS:
        raise argparse.ArgumentTypeError(f"{text!r}: use KIND[=VALUE]@AFTER[+SECONDS] with KIND one of "
                                         f"{', '.join(DEGRADATIONS)}")
    kind, value, after, seconds = m.groups()
    return kind, float(value) if value else None, float(after), float(seconds) if seconds else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vksroom.hil.codec_sim",
                                     description="Simulated Cisco or Poly codec on a pseudo-terminal.")
    parser.add_argument("--model", choices=("cisco", "poly"), default="cisco")
    parser.add_argument("--far-end", type=_far_end, action="append", default=[], metavar="NUMBER=BEHAVIOUR",
                        help=f"how a number answers: {', '.join(BEHAVIOURS)} (repeatable)")
    parser.add_argument("--default-far-end", choices=BEHAVIOURS, default="answer")
    parser.add_argument("--answer-after", type=float, default=1.0, help="seconds until the far end answers")
    parser.add_argument("--drop-after", type=float, default=5.0, help="seconds a 'drop' far end stays connected")
    parser.add_argument("--ring-timeout", type=float, default=30.0, help="seconds a 'no_answer' far end rings")
    parser.add_argument("--degrade", type=_degradation, action="append", default=[],
                        metavar="KIND[=VALUE]@AFTER[+SECONDS]",
                        help=f"at every call, AFTER s after it connects: {', '.join(DEGRADATIONS)} (repeatable)")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="")
    parser.add_argument("--link-dir", default=None, help="directory for the stable by-id style link")
    parser.add_argument("--far-video-port", type=int, default=None,
                        help="also serve the far-end video output (MJPEG) on this loopback port; it freezes, "
                             "goes black or breaks into blocks with the scripted degradations")

    def build(a):
        far_video = None
        if a.far_video_port is not None:
            from vksroom.hil.video_stream import VideoStreamServer

            far_video = VideoStreamServer(port=a.far_video_port).start()
            print(f"far-end video at {far_video.url}", flush=True)
        common = dict(far_ends=dict(a.far_end), default_far_end=a.default_far_end, answer_after_s=a.answer_after,
                      drop_after_s=a.drop_after, ring_timeout_s=a.ring_timeout, link_dir=a.link_dir, seed=a.seed,
                      script=a.degrade, far_video=far_video)
        if a.model == "poly":
            return PolyCodecSimulator(password=a.password, **common)
        return CiscoCodecSimulator(username=a.username, password=a.password, **common)

    return run_cli(build, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())
