"""The ONVIF camera itself, without I/O: a PTZ head that moves in the generic spaces at finite
speed, presets with tokens and names, and the faults a camera answers.

Positions are computed from the clock (an axis knows where it set off, where to and how
fast), so a GetStatus during a move sees the camera on its way, MoveStatus MOVING, and
IDLE once every axis has arrived. Units are ONVIF's generic spaces: pan and tilt -1..1,
zoom 0..1; a speed is a fraction 0..1 of the top speed (``pan_speed`` generic units a
second: 1.0 sweeps the whole pan range in 2 s, as a fast PTZ head does at ~170 deg/s).

:class:`Refusal` is a SOAP fault as the camera would send it: the code chain and a reason.
"""
from __future__ import annotations

import collections
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

# hil/scene.py's courtroom is drawn in VISCA units: pan -2400..2400, tilt -400..1200,
# zoom 0..16384. The simulated ONVIF head spans the same angles in generic units.
SCENE_PAN, SCENE_TILT, SCENE_ZOOM = 2400.0, (-400.0, 1200.0), 16384.0


def scene_view(pan: float, tilt: float, zoom: float) -> tuple[float, float, float]:
    """Generic pan/tilt/zoom as the scene's units (what the picture shows)."""
    lo, hi = SCENE_TILT
    return pan * SCENE_PAN, lo + (tilt + 1.0) / 2.0 * (hi - lo), zoom * SCENE_ZOOM


def from_scene(view) -> tuple[float, float, float]:
    """The scene's units (e.g. :data:`vksroom.hil.scene.JUDGE_VIEW`) as generic pan/tilt/zoom."""
    pan, tilt, zoom = view
    lo, hi = SCENE_TILT
    return pan / SCENE_PAN, (tilt - lo) / (hi - lo) * 2.0 - 1.0, zoom / SCENE_ZOOM


class Refusal(Exception):
    """A SOAP fault: ``codes`` from env:Sender/env:Receiver down to the precise ter: code."""

    def __init__(self, codes: tuple[str, ...], reason: str, status: int | None = None):
        super().__init__(reason)
        self.codes, self.reason = codes, reason
        # SOAP 1.2 HTTP binding: a Sender fault is HTTP 400, a Receiver fault 500
        self.status = status or (400 if codes[0] == "env:Sender" else 500)


def invalid(code: str, reason: str) -> Refusal:
    return Refusal(("env:Sender", "ter:InvalidArgVal", f"ter:{code}"), reason)


class Axis:
    """One axis moving at constant speed towards a target; where it is, from the clock."""

    def __init__(self, lo: float, hi: float):
        self.lo, self.hi = lo, hi
        self.origin = self.target = 0.0
        self.speed, self.t0, self.arrival = 1.0, 0.0, 0.0

    def at(self, now: float) -> float:
        if now >= self.arrival:
            return self.target
        step = self.speed * (now - self.t0)
        return self.origin + (step if self.target > self.origin else -step)

    def moving(self, now: float) -> bool:
        return now < self.arrival

    def move(self, target: float, speed: float, now: float) -> None:
        self.origin = self.at(now)
        self.target = min(self.hi, max(self.lo, target))
        self.speed, self.t0 = max(1e-6, speed), now
        self.arrival = now + abs(self.target - self.origin) / self.speed

    def stop(self, now: float) -> None:
        self.origin = self.target = self.at(now)
        self.arrival = now

    def set(self, value: float) -> None:
        self.origin = self.target = min(self.hi, max(self.lo, value))
        self.arrival = 0.0


@dataclass
class Options:
    pan_speed: float = 1.0          # generic units a second at speed 1
    tilt_speed: float = 1.0
    zoom_speed: float = 0.5
    tilt_range: tuple = (-1.0, 1.0)  # a ceiling mount may allow less
    max_presets: int = 64
    default_speed: float = 1.0      # DefaultPTZSpeed
    default_timeout_s: float = 10.0  # DefaultPTZTimeout of a continuous move
    state_file: str | None = None    # keeps presets across power cycles and runs


class PtzModel:
    def __init__(self, opts: Options, clock=time.monotonic):
        self.o = opts
        self.clock = clock
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.pan, self.tilt, self.zoom = Axis(-1.0, 1.0), Axis(*opts.tilt_range), Axis(0.0, 1.0)
        self.presets: dict[str, dict] = {}       # token -> {"name", "position": [pan, tilt, zoom]}
        self.counts: collections.Counter = collections.Counter()
        self._load()

    # -- persistence
    def _load(self) -> None:
        path = self.o.state_file
        if path and os.path.exists(path):
            try:
                data = json.loads(Path(path).read_text())
                self.presets = {str(t): {"name": str(p["name"]), "position": [float(v) for v in p["position"]]}
                                for t, p in data.get("presets", {}).items()}
            except (OSError, ValueError, TypeError, KeyError):
                self.presets = {}

    def _save(self) -> None:
        if self.o.state_file:
            tmp = self.o.state_file + ".tmp"
            Path(tmp).write_text(json.dumps({"presets": self.presets}))
            os.replace(tmp, self.o.state_file)

    # -- state
    def power_up(self) -> None:
        """Mains on: the head initialises to home (0, 0, wide)."""
        with self.lock:
            for axis in (self.pan, self.tilt, self.zoom):
                axis.set(0.0)
            self.changed.notify_all()

    def positions(self) -> tuple[float, float, float]:
        with self.lock:
            now = self.clock()
            return self.pan.at(now), self.tilt.at(now), self.zoom.at(now)

    def move_status(self) -> tuple[str, str]:
        with self.lock:
            now = self.clock()
            pt = "MOVING" if self.pan.moving(now) or self.tilt.moving(now) else "IDLE"
            return pt, "MOVING" if self.zoom.moving(now) else "IDLE"

    def moving_for(self) -> float:
        """Seconds until the last axis under way arrives (0: still)."""
        with self.lock:
            now = self.clock()
            return max(0.0, *(a.arrival - now for a in (self.pan, self.tilt, self.zoom)))

    def wait_still(self, timeout: float = 5.0) -> bool:
        """Wait until no axis moves; False if still moving after ``timeout`` s (for tests).
        A new move wakes the wait to look again."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while (left := self.moving_for()) > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(min(remaining, left))
            return True

    # -- moves (speed: a fraction 0..1 of the top speed)
    def _speeds(self, pt: float | None, z: float | None) -> tuple[float, float]:
        pt = self.o.default_speed if pt is None else pt
        z = self.o.default_speed if z is None else z
        if not (0.0 < pt <= 1.0 and 0.0 < z <= 1.0):
            raise invalid("InvalidSpeed", "The requested speed is out of bounds.")
        return pt, z

    def absolute(self, pan, tilt, zoom, speed_pt=None, speed_z=None) -> None:
        s_pt, s_z = self._speeds(speed_pt, speed_z)
        with self.lock:
            if pan is not None and not (self.pan.lo <= pan <= self.pan.hi and self.tilt.lo <= tilt <= self.tilt.hi):
                raise invalid("InvalidPosition", "The requested position is out of bounds.")
            if zoom is not None and not self.zoom.lo <= zoom <= self.zoom.hi:
                raise invalid("InvalidPosition", "The requested zoom is out of bounds.")
            self._go(pan, tilt, zoom, s_pt, s_z)
            self.counts["absolute_move"] += 1

    def _go(self, pan, tilt, zoom, s_pt, s_z) -> None:
        now = self.clock()
        if pan is not None:
            # pan and tilt start and end together, as a PTZ head interpolates them
            dp, dt = abs(pan - self.pan.at(now)), abs(tilt - self.tilt.at(now))
            t = max(dp / (self.o.pan_speed * s_pt), dt / (self.o.tilt_speed * s_pt), 1e-6)
            self.pan.move(pan, max(dp / t, 1e-6), now)
            self.tilt.move(tilt, max(dt / t, 1e-6), now)
        if zoom is not None:
            self.zoom.move(zoom, self.o.zoom_speed * s_z, now)
        self.changed.notify_all()

    def relative(self, dpan, dtilt, dzoom, speed_pt=None, speed_z=None) -> None:
        for d in (dpan, dtilt, dzoom):
            if d is not None and not -1.0 <= d <= 1.0:
                raise invalid("InvalidTranslation", "The requested translation is out of bounds.")
        s_pt, s_z = self._speeds(speed_pt, speed_z)
        with self.lock:
            pan, tilt, zoom = self.positions()
            # a translation past the end stops at the end (the PTZ service says so)
            self._go(None if dpan is None else min(self.pan.hi, max(self.pan.lo, pan + dpan)),
                     None if dpan is None else min(self.tilt.hi, max(self.tilt.lo, tilt + dtilt)),
                     None if dzoom is None else min(1.0, max(0.0, zoom + dzoom)), s_pt, s_z)
            self.counts["relative_move"] += 1

    def continuous(self, vpan, vtilt, vzoom, timeout_s: float | None) -> None:
        """Move at a velocity until stopped or ``timeout_s``: the same as an absolute move to
        where that velocity leads by then (and no further than the end)."""
        for v in (vpan, vtilt, vzoom):
            if v is not None and not -1.0 <= v <= 1.0:
                raise invalid("InvalidVelocity", "The requested velocity is out of bounds.")
        t = self.o.default_timeout_s if timeout_s is None else timeout_s
        with self.lock:
            now = self.clock()
            for axis, v, top in ((self.pan, vpan, self.o.pan_speed), (self.tilt, vtilt, self.o.tilt_speed),
                                 (self.zoom, vzoom, self.o.zoom_speed)):
                if v is None:
                    continue
                if v == 0:
                    axis.stop(now)
                else:
                    axis.move(axis.at(now) + v * top * t, abs(v) * top, now)
            self.counts["continuous_move"] += 1
            self.changed.notify_all()

    def stop(self, pan_tilt: bool = True, zoom: bool = True) -> None:
        with self.lock:
            now = self.clock()
            for axis in ((self.pan, self.tilt) if pan_tilt else ()) + ((self.zoom,) if zoom else ()):
                axis.stop(now)
            self.counts["stop"] += 1
            self.changed.notify_all()

    # -- presets
    def set_preset(self, name: str | None, token: str | None) -> str:
        with self.lock:
            if "MOVING" in self.move_status():
                raise Refusal(("env:Receiver", "ter:Action", "ter:MovingPTZ"),
                              "Preset cannot be set while PTZ unit is moving.")
            if name is not None and (not name or len(name) > 64):
                raise invalid("InvalidPresetName", "The PresetName is either too long or contains invalid characters.")
            if token is not None and token not in self.presets:
                raise invalid("NoToken", "The requested preset token does not exist.")
            if name and any(p["name"] == name for t, p in self.presets.items() if t != token):
                raise invalid("PresetExist", "The requested name already exist for another preset.")
            if token is None:
                if len(self.presets) >= self.o.max_presets:
                    raise Refusal(("env:Receiver", "ter:Action", "ter:TooManyPresets"),
                                  "Maximum number of Presets reached.")
                token = str(next(n for n in range(1, self.o.max_presets + 2) if str(n) not in self.presets))
            old = self.presets.get(token, {})
            self.presets[token] = {"name": name if name is not None else old.get("name", f"Preset {token}"),
                                   "position": list(self.positions())}
            self.counts["set_preset"] += 1
            self._save()
            return token

    def goto_preset(self, token: str, speed_pt=None, speed_z=None) -> None:
        s_pt, s_z = self._speeds(speed_pt, speed_z)
        with self.lock:
            preset = self.presets.get(token)
            if preset is None:
                raise invalid("NoToken", "The requested preset token does not exist.")
            pan, tilt, zoom = preset["position"]
            self._go(pan, tilt, zoom, s_pt, s_z)
            self.counts["goto_preset"] += 1

    def remove_preset(self, token: str) -> None:
        with self.lock:
            if self.presets.pop(token, None) is None:
                raise invalid("NoToken", "The requested preset token does not exist.")
            self._save()
