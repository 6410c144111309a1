"""The camera itself: what a VISCA PTZ camera does with each message, with no I/O.

The model keeps power state (with a power-up period answering error 41), pan, tilt and
zoom that move at finite speed (positions are computed from the clock, so a position
inquiry during a move sees it travelling), two command sockets, presets that can be
saved to a JSON state file, focus mode, a count of every command executed (``counts``)
and of every command received but not executed (``refused``).

Power-up (mains on, or Power On from standby) takes ``boot_s``: the camera initialises
pan/tilt and answers error 41 to every command meanwhile, and, as PTZOptics-class
cameras do (41 on socket 0 to an inquiry), to inquiries too; the quirk
``boot_answers_inquiries`` answers inquiries normally instead and refuses only commands.
A Power On from standby completes when the camera has booted.

``handle(message, out)`` takes one packet addressed to this camera and calls
``out(reply_bytes, at)`` for each reply, ``at`` being the monotonic time it is due.
"""
from __future__ import annotations

import collections
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

FF = 0xFF

# A real camera's power-up: the Sony EVI-D70 technical manual says its picture appears about
# 7 s after the pan/tilt initialisation motion has stopped; Sony's mode-condition tables
# (EVI-D80/D90, EVI-HD7V) refuse pan-tilt and preset commands for the whole initialising
# period after DC power or a VISCA power-on. About 10 s in all: see docs/visca.md.
REAL_BOOT_S = 10.0

# EVI-D70 ranges from the fact sheet (one unit = 0.075 deg)
PAN_RANGE = (-0x08DB, 0x08DB)
TILT_RANGE = (-0x0190, 0x04B0)
ZOOM_RANGE = (0, 0x7AC0)

DIRECTIONS = {
    (0x03, 0x01): (0, 1), (0x03, 0x02): (0, -1), (0x01, 0x03): (-1, 0), (0x02, 0x03): (1, 0),
    (0x01, 0x01): (-1, 1), (0x02, 0x01): (1, 1), (0x01, 0x02): (-1, -1), (0x02, 0x02): (1, -1),
    (0x03, 0x03): (0, 0),
}

QUIRKS = {
    "stop_needs_speed": "answer error 02 to a Stop whose speed bytes are 00",
    "no_ack": "send Completion without an ACK first",
    "error41_other_socket": "in standby, ACK a command on socket 1 then send error 41 on socket 2",
    "reply_header_a0": "answer with header A0 (as some new firmware does) instead of 90",
    "one_socket": "run every command on socket 1 and never answer 'buffer full'",
    "seq_ignore": "VISCA over IP: do not recognise a resend (every message runs; 'accepts sequence 0')",
    "strict_types": "VISCA over IP: answer 0F 02 when the payload type (command/inquiry) does not match the message",
    "seq_reply_one": "VISCA over IP: answer every message with sequence number 1 (NDI PTZ1)",
    "boot_answers_inquiries": "while powering up, answer inquiries (power: on) and refuse only commands with 41",
    "no_freeze": "a model without CAM_Freeze: answer error 02 to its commands and its inquiry",
}


def nibbles(value: int, count: int = 4) -> bytes:
    value &= (1 << (4 * count)) - 1
    return bytes((value >> (4 * (count - 1 - i))) & 0x0F for i in range(count))


def from_nibbles(data: bytes, signed: bool = True) -> int | None:
    if any(b > 0x0F for b in data):
        return None
    value = 0
    for b in data:
        value = (value << 4) | b
    if signed and value >= 1 << (4 * len(data) - 1):
        value -= 1 << (4 * len(data))
    return value


class Axis:
    """One axis moving at constant speed towards a target; position computed from time."""

    def __init__(self, lo: int, hi: int, home: int = 0):
        self.lo, self.hi = lo, hi
        self.origin, self.target, self.speed, self.t0 = home, home, 1.0, 0.0
        self.arrival = 0.0        # when it reaches the target (the move's Completion is due then)

    def at(self, now: float) -> int:
        if self.origin == self.target or now >= self.arrival:
            return self.target
        travelled = int(self.speed * max(0.0, now - self.t0))
        dist = self.target - self.origin
        return self.origin + min(travelled, abs(dist) - 1) * (1 if dist > 0 else -1)

    def moving(self, now: float) -> bool:
        return self.origin != self.target and now < self.arrival

    def move(self, target: int, speed: float, now: float) -> float:
        """Start moving; returns the seconds until arrival."""
        self.origin = self.at(now)
        self.target = max(self.lo, min(self.hi, int(target)))
        self.speed, self.t0 = max(1e-6, speed), now
        self.arrival = now + abs(self.target - self.origin) / self.speed
        return self.arrival - now

    def stop(self, now: float) -> None:
        self.origin = self.target = self.at(now)

    def set(self, value: int) -> None:
        self.origin = self.target = max(self.lo, min(self.hi, value))


@dataclass
class Job:
    socket: int
    group: str
    out: object
    due: float
    done: bool = False


@dataclass
class Options:
    address: int = 1
    boot_s: float = REAL_BOOT_S    # power-up period answering error 41
    ack_delay: float = 0.0         # processing time before the ACK (a real BRC-300: ~0.025)
    pan_speed: float = 1400.0      # units/s at the top pan speed (18h)
    tilt_speed: float = 1200.0     # units/s at the top tilt speed (17h)
    zoom_speed: float = 10000.0    # units/s at the top zoom speed
    presets: int = 16              # preset slots (BRC-300: 6, SRG-300H: 16, PTZOptics 254)
    version: tuple = (0x0020, 0x0511, 0x0102, 2)   # vendor, model, ROM, max sockets
    state_file: str | None = None
    quirks: set = field(default_factory=set)


class CameraModel:
    def __init__(self, opts: Options, clock=time.monotonic):
        self.o = opts
        self.clock = clock
        self.lock = threading.RLock()
        self.pan = Axis(*PAN_RANGE)
        self.tilt = Axis(*TILT_RANGE)
        self.zoom = Axis(*ZOOM_RANGE)
        self.power = "on"
        self.boot_until = 0.0
        self.focus_mode = "auto"
        self.frozen = False            # CAM_Freeze: the picture held still (the video follows it)
        self.sockets: dict[int, Job | None] = {1: None, 2: None}
        self.presets: dict[int, tuple[int, int, int]] = {}
        self.counts: collections.Counter = collections.Counter()     # executed, by name; outcomes
        self.refused: collections.Counter = collections.Counter()    # received, not executed, by name
        self.changed = threading.Condition(self.lock)
        self.address = opts.address
        self.on_job = None
        self._power_answers: dict[tuple, bytes] = {}   # (address, power) -> answer packet
        self._load()

    # --- persistence -------------------------------------------------------------------

    def _load(self) -> None:
        path = self.o.state_file
        if not path or not os.path.exists(path):
            return
        try:
            data = json.loads(Path(path).read_text())
            self.presets = {int(k): tuple(v) for k, v in data.get("presets", {}).items()}
        except (OSError, ValueError, TypeError):
            self.presets = {}

    def _save(self) -> None:
        if self.o.state_file:
            tmp = self.o.state_file + ".tmp"
            Path(tmp).write_text(json.dumps({"presets": {str(k): v for k, v in self.presets.items()}}))
            os.replace(tmp, self.o.state_file)

    # --- life cycle --------------------------------------------------------------------

    def power_up(self) -> None:
        """Mains on: initialise to home, answer error 41 for ``boot_s``."""
        with self.lock:
            self.power = "on"
            self.boot_until = self.clock() + self.o.boot_s
            self.frozen = False
            for axis in (self.pan, self.tilt, self.zoom):
                axis.set(0)
            self.sockets = {1: None, 2: None}

    def booting(self) -> bool:
        return self.clock() < self.boot_until

    def positions(self) -> tuple[int, int, int]:
        now = self.clock()
        return self.pan.at(now), self.tilt.at(now), self.zoom.at(now)

    def wait_still(self, timeout: float) -> bool:
        """Wait until no command is running and no axis moves (every move sent has ended
        where it was going); False if that has not happened within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                now = self.clock()
                due = [job.due for job in self.sockets.values() if job and not job.done]
                due += [axis.arrival for axis in (self.pan, self.tilt, self.zoom) if axis.moving(now)]
                left = deadline - time.monotonic()
                if not due:
                    return True
                if left <= 0:
                    return False
                # a Completion wakes this at once; an axis (a drive) arrives when computed
                self.changed.wait(min(left, max(0.001, max(due) - now)))

    # --- replies -----------------------------------------------------------------------

    @property
    def head(self) -> int:
        return 0xA0 if "reply_header_a0" in self.o.quirks else (self.address + 8) << 4

    def _ack(self, out, sock: int, at: float) -> None:
        if "no_ack" not in self.o.quirks:
            out(bytes([self.head, 0x40 | sock, FF]), at)

    def _done(self, out, sock: int, at: float, data: bytes = b"") -> None:
        out(bytes([self.head, 0x50 | sock, *data, FF]), at)

    def _error(self, out, sock: int, code: int, at: float) -> None:
        out(bytes([self.head, 0x60 | sock, code, FF]), at)

    # --- the dispatcher ----------------------------------------------------------------

    def handle(self, msg: bytes, out) -> None:
        """``msg``: one whole packet (header .. FF) addressed to this camera."""
        with self.lock:
            now = self.clock()
            at = now + self.o.ack_delay
            if not 3 <= len(msg) <= 16 or msg[-1] != FF:
                self._error(out, 0, 0x01, at)
                return
            body = msg[1:-1]
            if body[0] == 0x09:
                out(self._inquiry(body[1:]), at)
            elif body[0] == 0x01:
                self._command(body[1:], out, now, at)
            elif body[0] & 0xF0 == 0x20 and len(body) == 1:
                self._cancel(body[0] & 0x0F, out, now, at)
            else:
                self.counts["rejected"] += 1
                self._error(out, 0, 0x02, at)

    def answer_at_once(self, msg: bytes) -> bytes | None:
        """The reply to an inquiry packet (``8x 09 .. FF``) when it is due at once (no
        ``ack_delay``): what a receive thread sends straight back, with no timer and no
        queue. None for anything else: :meth:`handle` takes that."""
        if msg[1:] == b"\x09\x04\x00\xff" and self.o.ack_delay <= 0 and 0x80 <= msg[0] < FF \
                and not self._refuses_inquiries():
            # the power inquiry, the one every poll makes: it reads one attribute (no lock
            # needed) and its few possible answers are made once
            key = (self.address, self.power)
            reply = self._power_answers.get(key)
            if reply is None:
                with self.lock:
                    reply = self._power_answers[key] = self._inquiry(b"\x04\x00")
            else:
                self.counts["inquiry"] += 1
            return reply
        if self.o.ack_delay > 0 or not 4 <= len(msg) <= 16 or msg[1] != 0x09 or not 0x80 <= msg[0] < FF \
                or msg.find(FF) != len(msg) - 1:
            return None
        with self.lock:
            return self._inquiry(msg[2:-1])

    def _refuses_inquiries(self) -> bool:
        return self.booting() and "boot_answers_inquiries" not in self.o.quirks

    def _inquiry(self, q: bytes) -> bytes:
        """The answer packet to inquiry ``q`` (the bytes after ``09``), or an error packet."""
        if self._refuses_inquiries():    # booting: 41 on socket 0, as for any inquiry refused
            self.counts["inquiry_refused"] += 1
            return bytes([self.head, 0x60, 0x41, FF])
        if q == b"\x04\x00":
            data = bytes([0x02 if self.power == "on" else 0x03])
        elif q == b"\x06\x12":
            now = self.clock()
            data = nibbles(self.pan.at(now)) + nibbles(self.tilt.at(now))
        elif q == b"\x04\x47":
            data = nibbles(self.zoom.at(self.clock()))
        elif q == b"\x04\x38":
            data = bytes([0x02 if self.focus_mode == "auto" else 0x03])
        elif q == b"\x04\x62" and "no_freeze" not in self.o.quirks:
            data = bytes([0x02 if self.frozen else 0x03])
        elif q == b"\x00\x02":
            data = b"".join(v.to_bytes(2, "big") for v in self.o.version[:3]) + bytes([self.o.version[3]])
        else:
            self.counts["rejected"] += 1
            return bytes([self.head, 0x60, 0x02, FF])
        self.counts["inquiry"] += 1
        return bytes([self.head, 0x50, *data, FF])

    def _free_socket(self) -> int | None:
        if "one_socket" in self.o.quirks:
            return 1
        for sock, job in self.sockets.items():
            if job is None or job.done:
                return sock
        return None

    def _finish(self, job: Job, at: float) -> None:
        if job.done:
            return
        job.done = True
        if self.sockets.get(job.socket) is job:
            self.sockets[job.socket] = None
        self._done(job.out, job.socket, at)
        self.changed.notify_all()

    def _supersede(self, group: str, now: float) -> None:
        """A new move of the same kind ends the one running: it completes now."""
        for job in list(self.sockets.values()):
            if job and not job.done and job.group == group:
                self._finish(job, now)

    def complete_due(self, now: float) -> float | None:
        """Send the Completions whose time has come; returns when the next is due."""
        with self.lock:
            nxt = None
            for job in list(self.sockets.values()):
                if job and not job.done:
                    if job.due <= now:
                        self._finish(job, now)
                    else:
                        nxt = job.due if nxt is None else min(nxt, job.due)
            return nxt

    def _command(self, c: bytes, out, now: float, at: float) -> None:
        handler = self._handler(c)
        name = "if_clear" if c == b"\x00\x01" else handler[0] if handler else "unknown"
        if self.booting():                          # initialising pan/tilt: nothing runs yet
            self.refused[name] += 1
            self._error(out, 1, 0x41, at)
            return
        if c == b"\x00\x01":                        # IF_Clear (to this camera)
            self.counts["if_clear"] += 1
            for job in self.sockets.values():
                if job:
                    job.done = True
            self.sockets = {1: None, 2: None}
            self._done(out, 0, at)
            return
        if handler is None:
            self.counts["rejected"] += 1
            self.refused[name] += 1
            self._error(out, 0, 0x02, at)
            return
        name, group, check, run = handler
        if not check():
            self.counts["rejected"] += 1
            self.refused[name] += 1
            self._error(out, 0, 0x02, at)
            return
        if self.power != "on" and group != "power":
            self.counts["not_executable"] += 1
            self.refused[name] += 1
            if "error41_other_socket" in self.o.quirks:
                self._ack(out, 1, at)
                self._error(out, 2, 0x41, at)
            else:
                self._error(out, 1, 0x41, at)
            return
        if group in ("pt", "zoom"):
            self._supersede(group, at)
        sock = self._free_socket()
        if sock is None:
            self.counts["buffer_full"] += 1
            self.refused[name] += 1
            self._error(out, 0, 0x03, at)
            return
        self.counts[name] += 1
        self._ack(out, sock, at)
        duration = run(now)
        job = Job(sock, group, out, at + duration)
        if duration <= 0:
            self._done(out, sock, at)
            return
        if self.sockets.get(sock) and not self.sockets[sock].done:
            self.sockets[sock].done = True   # one_socket quirk: overwritten silently
        self.sockets[sock] = job
        self.changed.notify_all()
        if self.on_job is not None:
            self.on_job()      # the scheduler must wake for this Completion

    def _cancel(self, sock: int, out, now: float, at: float) -> None:
        job = self.sockets.get(sock)
        self.counts["cancel"] += 1
        if job is None or job.done:
            self._error(out, sock, 0x05, at)
            return
        job.done = True
        self.sockets[sock] = None
        for axis in (self.pan, self.tilt) if job.group == "pt" else (self.zoom,) if job.group == "zoom" else ():
            axis.stop(now)
        self._error(out, sock, 0x04, at)

    # --- commands: (count name, group, validity check, run(now) -> seconds) ------------

    def _handler(self, c: bytes):
        ok = lambda: True  # noqa: E731
        if c[:2] == b"\x04\x00" and len(c) == 3 and c[2] in (2, 3):
            return ("power_on" if c[2] == 2 else "standby", "power", ok, lambda now: self._set_power(c[2] == 2, now))
        if c[:2] == b"\x06\x01" and len(c) == 6:
            return ("pt_drive", "pt", lambda: self._drive_ok(c), lambda now: self._drive(c, now))
        if c[:1] == b"\x06" and len(c) == 12 and c[1] in (2, 3):
            name = "pt_absolute" if c[1] == 2 else "pt_relative"
            return (name, "pt", lambda: self._position_ok(c), lambda now: self._position(c, now))
        if c == b"\x06\x04":
            return ("home", "pt", ok, lambda now: self._goto(0, 0, None, 0x18, 0x17, now))
        if c == b"\x06\x05":
            return ("pt_reset", "pt", ok, lambda now: self._goto(0, 0, None, 0x18, 0x17, now) + 0.5)
        if c[:2] == b"\x04\x07" and len(c) == 3:
            return ("zoom", "zoom", lambda: c[2] in (0, 2, 3) or c[2] >> 4 in (2, 3) and c[2] & 0xF <= 7,
                    lambda now: self._zoom_drive(c[2], now))
        if c[:2] == b"\x04\x47" and len(c) == 6:
            z = from_nibbles(c[2:], signed=False)
            return ("zoom_direct", "zoom", lambda: z is not None and ZOOM_RANGE[0] <= z <= ZOOM_RANGE[1],
                    lambda now: self.zoom.move(z, self.o.zoom_speed, now))
        if c in (b"\x04\x38\x02", b"\x04\x38\x03", b"\x04\x18\x01") or (c[:2] == b"\x04\x08" and len(c) == 3
                                                                        and c[2] in (0, 2, 3)):
            return ("focus", "focus", ok, lambda now: self._focus(c))
        if c[:2] == b"\x04\x62" and len(c) == 3 and c[2] in (2, 3) and "no_freeze" not in self.o.quirks:
            return ("freeze_on" if c[2] == 2 else "freeze_off", "freeze", ok, lambda now: self._freeze(c[2] == 2))
        if c[:2] == b"\x04\x3f" and len(c) == 4 and c[2] in (0, 1, 2):
            name = ("preset_reset", "preset_set", "preset_recall")[c[2]]
            group = "pt" if c[2] == 2 else "preset"
            return (name, group, lambda: c[3] < self.o.presets, lambda now: self._preset(c[2], c[3], now))
        return None

    def _set_power(self, on: bool, now: float) -> float:
        if on and self.power != "on":
            self.boot_until = now + self.o.boot_s   # error 41 to everything until booted
            self.power = "on"
            return self.o.boot_s
        if not on:
            for axis in (self.pan, self.tilt, self.zoom):
                axis.stop(now)
            self.power = "standby"
        return 0.0

    def _drive_ok(self, c: bytes) -> bool:
        vv, ww, a, b = c[2], c[3], c[4], c[5]
        if (a, b) not in DIRECTIONS or vv > 0x18 or ww > 0x17:
            return False
        if (a, b) == (3, 3):
            return not ("stop_needs_speed" in self.o.quirks and (vv == 0 or ww == 0))
        # an axis that moves needs speed >= 1; one that stays still may say 00
        return (a == 3 or vv >= 1) and (b == 3 or ww >= 1)

    def _drive(self, c: bytes, now: float) -> float:
        dx, dy = DIRECTIONS[(c[4], c[5])]
        for axis, d, spd in ((self.pan, dx, self._speed(c[2], 0x18, self.o.pan_speed)),
                             (self.tilt, dy, self._speed(c[3], 0x17, self.o.tilt_speed))):
            if d == 0:
                axis.stop(now)
            else:
                axis.move(axis.hi if d > 0 else axis.lo, spd, now)
        return 0.0   # a drive completes at once; the camera keeps moving until Stop

    @staticmethod
    def _speed(code: int, top: int, fastest: float) -> float:
        return fastest * max(1, code) / top

    def _position_ok(self, c: bytes) -> bool:
        if not (1 <= c[2] <= 0x18 and 1 <= c[3] <= 0x17):
            return False
        p, t = from_nibbles(c[4:8]), from_nibbles(c[8:12])
        if p is None or t is None:
            return False
        if c[1] == 2:   # absolute must be inside the range
            return PAN_RANGE[0] <= p <= PAN_RANGE[1] and TILT_RANGE[0] <= t <= TILT_RANGE[1]
        return True

    def _position(self, c: bytes, now: float) -> float:
        p, t = from_nibbles(c[4:8]), from_nibbles(c[8:12])
        if c[1] == 3:
            p, t = self.pan.target + p, self.tilt.target + t
            self.pan.stop(now)
            self.tilt.stop(now)
        return self._goto(p, t, None, c[2], c[3], now)

    def _goto(self, p: int, t: int, z: int | None, vv: int, ww: int, now: float) -> float:
        d = max(self.pan.move(p, self._speed(vv, 0x18, self.o.pan_speed), now),
                self.tilt.move(t, self._speed(ww, 0x17, self.o.tilt_speed), now))
        if z is not None:
            d = max(d, self.zoom.move(z, self.o.zoom_speed, now))
        return d

    def _zoom_drive(self, code: int, now: float) -> float:
        if code == 0:
            self.zoom.stop(now)
        else:
            direction = code >> 4 if code > 3 else code
            p = (code & 0x0F) if code > 3 else 3
            spd = self.o.zoom_speed * (p + 1) / 8
            self.zoom.move(self.zoom.hi if direction == 2 else self.zoom.lo, spd, now)
        return 0.0

    def _focus(self, c: bytes) -> float:
        if c[:2] == b"\x04\x38":
            self.focus_mode = "auto" if c[2] == 2 else "manual"
        return 0.0

    def _freeze(self, on: bool) -> float:
        self.frozen = on
        self.changed.notify_all()
        return 0.0

    def _preset(self, action: int, n: int, now: float) -> float:
        if action == 0:
            self.presets.pop(n, None)
            self._save()
            return 0.0
        if action == 1:
            self.presets[n] = self.positions()
            self._save()
            return 0.0
        p, t, z = self.presets.get(n, (0, 0, 0))
        return self._goto(p, t, z, 0x18, 0x17, now)

    # --- serial chain ------------------------------------------------------------------

    def network_change(self) -> bytes:
        return bytes([self.head, 0x38, FF])
