"""Audio simulators: a Biamp Tesira (TTP on a pty) and a Shure microphone system
(command strings on TCP 2202).

Each channel's level follows a scripted signal, looped: ``silence`` (noise around
-72 dBFS), ``speech`` (syllables: -45..-15 dBFS at about 4 per second), ``clipping``
(-0.5..0 dBFS), ``tone`` (steady -20 dBFS test tone) or ``dead`` (-100: nothing at all),
either one kind or a list of ``(kind, seconds)`` steps::

    sim = TesiraSimulator(channels=4, signals={1: "speech", 2: [("silence", 1), ("speech", 2)]}).start()
    sim.url; sim.mutes[3] = True; sim.set_signal(4, "clipping"); sim.unplug(); sim.replug()

Meters are pre-mute (an input meter): a muted microphone still shows its signal. A mute set
straight in ``sim.mutes`` is one pressed on the device itself: the Tesira publishes it to a
subscriber of that mute, the Shure sends its unsolicited REP, as for a change by a command.
:meth:`AudioSimulatorBase.reboot` restarts the device on a link that stays up (RS-232: the
port stays open): every session's subscriptions and meter rate are gone.

Run alone: ``python -m vksroom.hil.audio_sim --model shure --port 2202 --signal 1=speech``.
"""
from __future__ import annotations

import argparse
import math
import re
import threading
import time

from vksroom.hil.line_sim import LineSimulator, Session, run_cli

KINDS = ("silence", "speech", "clipping", "tone", "dead")


class SignalScript:
    """A looped list of (kind, seconds): the level of one channel at any time."""

    def __init__(self, spec, rng, phase: float = 0.0):
        steps = [(spec, 1.0)] if isinstance(spec, str) else [(k, float(s)) for k, s in spec]
        for kind, seconds in steps:
            if kind not in KINDS or seconds <= 0:
                raise ValueError(f"signal step ({kind!r}, {seconds}): kind must be one of {', '.join(KINDS)} "
                                 f"and seconds > 0")
        self.steps = steps
        self.period = sum(s for _, s in steps)
        self.rng = rng
        self.t0 = time.monotonic()
        self.phase = phase

    def kind_at(self, t: float) -> str:
        x = (t - self.t0) % self.period
        for kind, seconds in self.steps:
            if x < seconds:
                return kind
            x -= seconds
        return self.steps[-1][0]

    def level(self, t: float | None = None) -> float:
        t = time.monotonic() if t is None else t
        kind = self.kind_at(t)
        jitter = self.rng.uniform(-2.0, 2.0)
        if kind == "silence":
            return -72.0 + jitter
        if kind == "dead":
            return -100.0
        if kind == "tone":
            return -20.0 + jitter / 10
        if kind == "clipping":
            return -self.rng.uniform(0.0, 0.5)
        # speech: syllables at ~4 Hz riding on a slower phrase envelope, short gaps between words
        syllable = 0.5 + 0.5 * math.sin(2 * math.pi * 4.1 * t + self.phase)
        phrase = 0.5 + 0.5 * math.sin(2 * math.pi * 0.37 * t + self.phase)
        return round(-45.0 + 30.0 * syllable * (0.6 + 0.4 * phrase) + jitter, 2)


class AudioSimulatorBase(LineSimulator):
    def __init__(self, channels: int = 4, signals: dict | None = None, muted: dict | None = None,
                 gains: dict | None = None, **kw):
        super().__init__(**kw)
        self.count = channels
        self.mutes = {ch: False for ch in range(1, channels + 1)}
        self.mutes.update(muted or {})
        self.gains = {ch: 0.0 for ch in range(1, channels + 1)}   # dB
        self.gains.update(gains or {})
        self.scripts = {ch: SignalScript("silence", self.rng, ch) for ch in range(1, channels + 1)}
        for ch, spec in (signals or {}).items():
            self.set_signal(int(ch), spec)
        self._ticker: threading.Thread | None = None
        self.reboots = 0

    def set_signal(self, channel: int, spec) -> None:
        """Script channel ``channel``: a kind or a list of (kind, seconds)."""
        if channel not in self.mutes:
            raise ValueError(f"no channel {channel} (1-{self.count})")
        self.scripts[channel] = SignalScript(spec, self.rng, channel)

    def level(self, channel: int) -> float:
        return self.scripts[channel].level()

    def reboot(self) -> None:
        """The device restarts on a link that stays up: each session begins again, with no
        subscription and no meter stream."""
        self.reboots += 1
        for session in self.sessions:
            session.state.clear()
            self.on_session(session)

    def start(self):
        super().start()
        self._ticker = threading.Thread(target=self._tick_loop, daemon=True, name=f"{type(self).__name__}-meters")
        self._ticker.start()
        return self

    def _tick_loop(self) -> None:
        while not self._stop.wait(0.02):
            now = time.monotonic()
            for session in self.sessions:
                try:
                    self.tick(session, now)
                except Exception:   # a session going away mid-tick
                    pass

    def tick(self, session: Session, now: float) -> None:
        """Push due meter lines to ``session``."""


class TesiraSimulator(AudioSimulatorBase):
    """Biamp TesiraFORTE TTP on RS-232: instance tags for a mixer (``inputMute``,
    ``inputLevel``) and a meter block (``level``), with subscriptions."""

    link_name = "usb-Biamp_TesiraFORTE-if00-port0"

    def __init__(self, mixer: str = "Mixer1", meter: str = "Meter1", **kw):
        super().__init__(**kw)
        self.mixer, self.meter = mixer, meter

    def on_session(self, session: Session) -> None:
        session.state["subs"] = {}     # label -> [attribute, index, period_s, next_due]

    def handle(self, session: Session, line: str) -> None:
        text = line.strip()
        if not text:
            return
        self.send(session, *self._execute(session, text))

    def _execute(self, session: Session, text: str) -> list[str]:
        words = text.split()
        if len(words) < 3:
            return [f"-ERR Parse error at {len(text)}: not enough parameters supplied"]
        tag, cmd, attr, args = words[0], words[1], words[2], words[3:]
        if tag not in (self.mixer, self.meter):
            return ['-ERR address not found: {"deviceId":0 "classCode":0 "instanceNum":0}']
        if cmd not in ("get", "set", "toggle", "subscribe", "unsubscribe"):
            return [f"-ERR Parse error at {len(tag) + 1}: unknown command {cmd}"]
        known = {self.mixer: ("inputMute", "inputLevel"), self.meter: ("level", "levels")}[tag]
        if attr not in known:
            return [f"-ERR WRONG_ATTRIBUTE unknown attribute {attr}"]
        if attr == "levels":
            if cmd == "get":
                return ['+OK "value":[' + " ".join(f"{self.level(c):.6f}" for c in sorted(self.mutes)) + "]"]
            if cmd == "subscribe":
                return self._subscribe(session, attr, 0, args)
            if cmd == "unsubscribe":
                return self._unsubscribe(session, args)
            return ["-ERR INVALID_PARAMETER levels is read-only"]
        if not args:
            return [f"-ERR Parse error at {len(text)}: not enough parameters supplied"]
        try:
            index = int(args[0])
        except ValueError:
            return [f"-ERR Parse error at {len(' '.join(words[:3])) + 1}: expected an index"]
        if index not in self.mutes:
            return ["-ERR INVALID_PARAMETER Index out of range"]
        rest = args[1:]
        if cmd == "subscribe":
            return self._subscribe(session, attr, index, rest)
        if cmd == "unsubscribe":
            return self._unsubscribe(session, rest)
        if attr == "inputMute":
            return self._mute(cmd, index, rest)
        if attr == "inputLevel":
            if cmd == "get":
                return [f'+OK "value":{self.gains[index]:.6f}']
            if cmd == "set" and rest:
                try:
                    value = float(rest[0])
                except ValueError:
                    return ["-ERR INVALID_PARAMETER value is not a number"]
                if not -100.0 <= value <= 12.0:
                    return ["-ERR INVALID_PARAMETER value out of range"]
                self.gains[index] = value
                return ["+OK"]
            return [f"-ERR Parse error at {len(text)}: not enough parameters supplied"]
        if cmd == "get":   # meter level
            return [f'+OK "value":{self.level(index):.6f}']
        return ["-ERR INVALID_PARAMETER level is read-only"]

    def _mute(self, cmd: str, index: int, rest: list[str]) -> list[str]:
        if cmd == "get":
            return [f'+OK "value":{"true" if self.mutes[index] else "false"}']
        if cmd == "toggle":
            self.mutes[index] = not self.mutes[index]
            return ["+OK"]
        if cmd == "set" and rest and rest[0] in ("true", "false"):
            self.mutes[index] = rest[0] == "true"
            return ["+OK"]
        if cmd == "set" and rest:
            return ["-ERR INVALID_PARAMETER value must be true or false"]
        return ["-ERR Parse error: not enough parameters supplied"]

    def _subscribe(self, session: Session, attr: str, index: int, rest: list[str]) -> list[str]:
        if not rest:
            return ["-ERR Parse error: not enough parameters supplied"]
        label = rest[0]
        try:
            period = max(100, int(rest[1])) / 1000 if len(rest) > 1 else 0.1
        except ValueError:
            return ["-ERR INVALID_PARAMETER rate is not a number"]
        line, value = self._publish_line(label, attr, index)
        session.state["subs"][label] = [attr, index, period, time.monotonic() + period, value]
        return [line, "+OK"]

    def _unsubscribe(self, session: Session, rest: list[str]) -> list[str]:
        if not rest:
            return ["-ERR Parse error: not enough parameters supplied"]
        session.state["subs"].pop(rest[0], None)
        return ["+OK"]

    def _value(self, attr: str, index: int) -> str:
        if attr == "levels":
            return "[" + " ".join(f"{self.level(c):.6f}" for c in sorted(self.mutes)) + "]"
        if attr == "inputMute":
            return "true" if self.mutes[index] else "false"
        if attr == "inputLevel":
            return f"{self.gains[index]:.6f}"
        return f"{self.level(index):.6f}"

    def _publish_line(self, label: str, attr: str, index: int) -> tuple[str, str]:
        value = self._value(attr, index)
        return f'! "publishToken":"{label}" "value":{value}', value

    def tick(self, session: Session, now: float) -> None:
        """Meters publish at their rate; a control attribute (mute, gain) when its value changes."""
        if self.silent:
            return
        lines = []
        for label, sub in list(session.state.get("subs", {}).items()):
            attr, index, period, due, last = sub
            if attr in ("inputMute", "inputLevel"):
                if self._value(attr, index) != last:
                    line, sub[4] = self._publish_line(label, attr, index)
                    lines.append(line)
            elif now >= due:
                sub[3] = max(due + period, now)
                lines.append(self._publish_line(label, attr, index)[0])
        if lines:
            self.send(session, *lines, delay=False)


class ShureSimulator(AudioSimulatorBase):
    """Shure command strings on TCP (MXA910-like): AUDIO_MUTE, AUDIO_GAIN_HI_RES,
    AUDIO_IN_RMS_LVL, METER_RATE with SAMPLE frames, REP on every change to every client."""

    default_transport = "tcp"
    in_terminator = re.compile(rb">")
    eol = ""

    def __init__(self, device_id: str = "MXA910-Courtroom", **kw):
        kw.setdefault("channels", 8)
        super().__init__(**kw)
        self.device_id = device_id

    def on_session(self, session: Session) -> None:
        session.state.update(rate=0.0, due=0.0, told=dict(self.mutes))   # told: the mutes it last heard

    def _rep(self, *body: str) -> str:
        return "".join(f"< {b} >" for b in body)

    def handle(self, session: Session, line: str) -> None:
        text = line.strip()
        if not text:
            return
        if not text.startswith("<"):
            text = text[text.find("<"):] if "<" in text else ""
        words = text[1:].split() if text else []
        reply, changed = self._execute(session, words)
        if reply:
            if len(words) >= 3 and words[2] == "AUDIO_MUTE" and words[1].isdigit():   # heard by this client now
                told = session.state.setdefault("told", {})
                told.update({c: m for c, m in self.mutes.items() if int(words[1]) in (0, c)})
            self.send(session, *reply)
        if changed:    # unsolicited REP of a change to every other client (mutes: by the tick)
            for other in self.sessions:
                if other is not session:
                    self.send(other, changed, delay=False)

    def _execute(self, session: Session, w: list[str]) -> tuple[list[str], str]:
        err = ["< REP ERR >"], ""
        if len(w) >= 2 and w[0] == "GET" and w[1] == "DEVICE_ID":
            return [f"< REP DEVICE_ID {{{self.device_id:<31}}} >"], ""
        if len(w) == 3 and w[0] == "SET" and w[1] == "METER_RATE" and w[2].isdigit():
            ms = int(w[2])
            if ms and ms < 100:
                return err
            session.state.update(rate=ms / 1000, due=time.monotonic() + ms / 1000)
            return [f"< REP METER_RATE {ms:05d} >"], ""
        if len(w) < 3 or w[0] not in ("GET", "SET") or not w[1].isdigit():
            return err
        ch, prop = int(w[1]), w[2]
        chans = sorted(self.mutes) if ch == 0 else [ch]
        if ch and ch not in self.mutes:
            return err
        if prop == "AUDIO_MUTE":
            if w[0] == "SET":
                if len(w) != 4 or w[3] not in ("ON", "OFF", "TOGGLE"):
                    return err
                for c in chans:
                    self.mutes[c] = (not self.mutes[c]) if w[3] == "TOGGLE" else w[3] == "ON"
            return [f"< REP {c} AUDIO_MUTE {'ON' if self.mutes[c] else 'OFF'} >" for c in chans], ""
        if prop == "AUDIO_GAIN_HI_RES":
            if w[0] == "SET":
                if len(w) != 4 or not w[3].isdigit() or not 0 <= int(w[3]) <= 1400:
                    return err
                for c in chans:
                    self.gains[c] = (int(w[3]) - 1100) / 10
            reps = [f"< REP {c} AUDIO_GAIN_HI_RES {int(round(self.gains[c] * 10)) + 1100:04d} >" for c in chans]
            return reps, ("".join(reps) if w[0] == "SET" else "")
        if prop == "AUDIO_IN_RMS_LVL" and w[0] == "GET":
            return [f"< REP {c} AUDIO_IN_RMS_LVL {self._raw_level(c):03d} >" for c in chans], ""
        return err

    def _raw_level(self, channel: int) -> int:
        return max(0, min(60, int(round(self.level(channel) + 60))))

    def tick(self, session: Session, now: float) -> None:
        """A mute changed since this client last heard it (on the device, or by another
        client): its unsolicited REP; then the meter frame when due."""
        told = session.state.get("told", {})
        changed = [c for c in sorted(self.mutes) if told.get(c) != self.mutes[c]]
        if changed and not self.silent:
            for c in changed:
                told[c] = self.mutes[c]
            self.send(session, *(f"< REP {c} AUDIO_MUTE {'ON' if self.mutes[c] else 'OFF'} >" for c in changed),
                      delay=False)
        rate = session.state.get("rate", 0.0)
        if rate and now >= session.state["due"] and not self.silent:
            session.state["due"] = max(session.state["due"] + rate, now)
            self.send(session, "< SAMPLE " + " ".join(f"{self._raw_level(c):03d}" for c in sorted(self.mutes))
                      + " >", delay=False)


def _signal(text: str) -> tuple[int, str]:
    ch, _, kind = text.partition("=")
    if not ch.isdigit() or kind not in KINDS:
        raise argparse.ArgumentTypeError(f"{text!r}: use CHANNEL=KIND with one of {', '.join(KINDS)}")
    return int(ch), kind


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vksroom.hil.audio_sim",
                                     description="Simulated Biamp Tesira (pty) or Shure microphones (TCP).")
    parser.add_argument("--model", choices=("tesira", "shure"), default="tesira")
    parser.add_argument("--channels", type=int, default=4)
    parser.add_argument("--signal", type=_signal, action="append", default=[], metavar="CHANNEL=KIND",
                        help=f"the signal on a channel: {', '.join(KINDS)} (repeatable; default silence)")
    parser.add_argument("--port", type=int, default=2202, help="TCP port (Shure)")
    parser.add_argument("--link-dir", default=None, help="directory for the stable by-id style link (Tesira)")

    def build(a):
        common = dict(channels=a.channels, signals=dict(a.signal), seed=a.seed)
        if a.model == "shure":
            return ShureSimulator(port=a.port, **common)
        return TesiraSimulator(link_dir=a.link_dir, **common)

    return run_cli(build, parser, argv)


if __name__ == "__main__":
    raise SystemExit(main())
