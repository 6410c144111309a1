"""The camera adapter: one VISCA PTZ camera as the room sees it.

Config (``[devices.cam_judge]``)::

    type = "camera"
    url = "visca-ip://10.0.0.21"
    presets = { judge = 1, prosecutor = 2, defence = 3, defendant = 4, witness = 5, wide = 6 }
    tolerance = 8                       # pan/tilt units a recalled preset may miss by
    settings = { ack_timeout = 0.2, retries = 4, stop_speed = 1 }   # quirks, see Settings

``connect()`` opens and initialises (RESET / AddressSet + IF_Clear / IF_Clear) and asks
the power state; ``poll()`` is one power inquiry (a lost camera fails it within about
``ack_timeout * (retries + 1)`` seconds). Role presets recall and are verified by a
position inquiry; where a role was stored through this adapter the position it was
stored at is remembered (``data_dir/camera-<id>.json``) and a recall must land within
``tolerance`` of it.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from pathlib import Path

from vksroom.controller.devices import CheckContext, DeviceAdapter
from vksroom.controller.model import CheckResult
from vksroom.controller.texts import role_label
from vksroom.drivers.errors import ConfigError, DeviceError, DeviceRejected
from vksroom.drivers.visca import check_settings, open_camera

log = logging.getLogger(__name__)


# Self-tests that prepare a hearing switch a camera in standby on (and wait for it to boot).
POWER_ON_TRIGGERS = ("schedule", "repeat", "test-session")


def _power(cam) -> str:
    """on | standby | booting: a camera initialising after power-on refuses with error 41."""
    try:
        return cam.power()
    except DeviceRejected as exc:
        if exc.code == 0x41:
            return "booting"
        raise


def _link_failure(exc: DeviceError) -> bool:
    from vksroom.drivers.errors import DeviceTimeout, TransportError

    return isinstance(exc, (TransportError, DeviceTimeout))

DEFAULT_TOLERANCE = 8
# the light liveness inquiry must fail fast enough to report a loss within 3 s
POLL_DEFAULTS = {"ack_timeout": 0.15, "retries": 4}


class CameraAdapter(DeviceAdapter):
    kind = "camera"

    def __init__(self, cfg, data_dir: Path | None = None):
        super().__init__(cfg, data_dir)
        self.settings = {**POLL_DEFAULTS, **dict(cfg.options.get("settings", {}))}
        self.roles: dict[str, int] = dict(cfg.options.get("presets", {}))
        self.tolerance = int(cfg.options.get("tolerance", DEFAULT_TOLERANCE))
        check_settings(cfg.url, self.settings)     # a bad setting is a config error, found at start
        self.cam = None
        self.version: dict | None = None
        self._lock = threading.RLock()

    # --- life cycle ---------------------------------------------------------------------

    def connect(self) -> None:
        with self._lock:
            if self.cam is None:
                self.cam = open_camera(self.cfg.url, **self.settings)
            else:
                self.cam.open()
            if _power(self.cam) != "booting" and self.version is None:
                self.version = self.cam.version()

    def poll(self) -> dict:
        cam = self._camera()
        values = {"power": _power(cam)}
        if values["power"] == "on":
            try:
                values["pan"], values["tilt"] = cam.position()
            except DeviceError as exc:   # a link failure fails the poll; a refusal (moving...) does not
                if _link_failure(exc):
                    raise
        return values

    def live_checks(self, values: dict) -> list[CheckResult]:
        power = values.get("power")
        code = {"on": "camera.power", "booting": "camera.booting"}.get(power, "camera.standby")
        return [self.live("power", power == "on", code, power=power)]

    def close(self) -> None:
        with self._lock:
            if self.cam is not None:
                self.cam.close()
                self.cam = None

    def _camera(self):
        if self.cam is None:
            raise DeviceError(f"camera {self.id} is not connected")
        return self.cam

    # --- what the panel uses ------------------------------------------------------------

    def _memory_path(self) -> Path | None:
        return self.data_dir / f"camera-{self.id}.json" if self.data_dir else None

    def _memory(self) -> dict:
        path = self._memory_path()
        try:
            return json.loads(path.read_text()) if path and path.exists() else {}
        except (OSError, ValueError):
            return {}

    def preset_for(self, role: str) -> int:
        if role not in self.roles:
            raise ConfigError(f"camera {self.id} has no preset for role {role!r} "
                              f"(configured: {', '.join(self.roles) or 'none'})")
        return self.roles[role]

    def recall_role(self, role: str) -> dict:
        """Recall a role's preset, wait for it, and say where the camera landed."""
        cam = self._camera()
        cam.recall(self.preset_for(role))
        pan, tilt = cam.position()
        return {"role": role, "pan": pan, "tilt": tilt}

    def store_role(self, role: str) -> dict:
        """Store the current view as the role's preset and remember where that is."""
        cam = self._camera()
        n = self.preset_for(role)
        cam.store(n)
        pan, tilt = cam.position()
        memory = self._memory()
        memory[str(n)] = [pan, tilt]
        path = self._memory_path()
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(memory))
            os.replace(tmp, path)
        return {"role": role, "preset": n, "pan": pan, "tilt": tilt}

    def state(self) -> dict:
        return self._camera().state()

    NUDGE_UNITS = 12     # pan/tilt units per step of speed on the panel's arrow pad
    ZOOM_STEP = 0x800

    def nudge(self, direction: str, speed: int) -> dict:
        """One press of the panel's arrow pad: a relative move, ``speed`` 1-24 scaling its size."""
        from vksroom.drivers.visca.messages import DIRECTIONS, PAN_SPEED_MAX

        if direction not in DIRECTIONS or direction == "stop":
            raise ConfigError(f"unknown direction {direction!r}")
        if isinstance(speed, bool) or not isinstance(speed, int) or not 1 <= speed <= PAN_SPEED_MAX:
            raise ConfigError(f"speed must be 1..{PAN_SPEED_MAX}, got {speed!r}")
        a, b = DIRECTIONS[direction]
        step = speed * self.NUDGE_UNITS
        dx = {1: -step, 2: step, 3: 0}[a]
        dy = {1: step, 2: -step, 3: 0}[b]
        cam = self._camera()
        cam.move_relative(dx, dy, speed=(speed, min(speed, 0x17)))
        return self.state()

    def zoom_step(self, direction: str) -> dict:
        """One press of zoom in (tele) or out (wide)."""
        if direction not in ("tele", "wide"):
            raise ConfigError(f"zoom direction must be tele or wide, got {direction!r}")
        cam = self._camera()
        z = cam.zoom_position() + (self.ZOOM_STEP if direction == "tele" else -self.ZOOM_STEP)
        cam.zoom_to(max(0, min(cam.zoom_max, z)))
        return self.state()

    # --- self-test ----------------------------------------------------------------------

    def checks(self, ctx: CheckContext) -> list[CheckResult]:
        results: list[CheckResult] = []
        try:
            cam = self._camera()
            power = _power(cam)
            results.append(self.result("reachable", True, code="camera.reachable"))
            if power != "on" and ctx.trigger in POWER_ON_TRIGGERS:
                power = self._switch_on(cam, ctx)
        except DeviceError as exc:
            if not results:
                results.append(self.result("reachable", False, code="camera.unreachable", detail=str(exc)))
                return results
            power = "standby"   # switching on failed: it stays as it was
            log.warning("camera %s: could not switch on: %s", self.id, exc)
        if power != "on":
            results.append(self.result("power", False, value=power,
                                       code="camera.booting" if power == "booting" else "camera.standby"))
            return results
        results.append(self.result("power", True, value=power, code="camera.power"))
        try:
            self.version = cam.version()
            results.append(self.result("version", True, value=self.version, code="camera.version.ok",
                                       detail=f"model {self.version['model']} ROM {self.version['rom']}"))
        except DeviceError as exc:
            results.append(self.result("version", False, code="camera.version", detail=str(exc)))
        results.extend(self._preset_checks(cam, ctx))
        return results

    def _switch_on(self, cam, ctx: CheckContext) -> str:
        """Power a camera in standby on before a hearing and wait, within the self-test's
        deadline, until it has booted (it refuses commands with error 41 meanwhile)."""
        log.info("camera %s: in standby before a hearing; switching it on", self.id)
        cam.power_on()
        power = _power(cam)
        while power != "on" and ctx.remaining() > 0.5 and not ctx.cancelled.wait(0.5):
            power = _power(cam)
        return power

    def _picture_checks(self, check: str, role: str, ctx: CheckContext) -> list[CheckResult]:
        """After a preset landed: is the picture right? Judged against that role's references."""
        url = self.cfg.options.get("video")
        if not url or ctx.remaining() < 1.0:
            return []
        from vksroom.controller.video import check_preset_video

        started = time.monotonic()
        results = check_preset_video(self.id, role, url, ctx.data_dir, timeout=min(5.0, ctx.remaining()),
                                     label=self.label)
        took = time.monotonic() - started      # one picture judged: its time is each verdict's
        if self._mark is not None:
            self._mark = time.monotonic()
        return [dataclasses.replace(r, check=f"{check}.{r.check}", duration_s=took) for r in results]

    def capture_reference(self, role: str, label: str = "") -> str:
        """Recall ``role``'s preset and store the picture as its reference (a good test session)."""
        from vksroom.drivers.video.capture import VideoSource
        from vksroom.drivers.video.references import ReferenceStore

        url = self.cfg.options.get("video")
        if not url or self.data_dir is None:
            raise ConfigError(f"camera {self.id} has no 'video' URL: no picture to store")
        self.recall_role(role)
        with VideoSource(url, name=self.id) as source:
            source.grab(5.0)                       # the stream starts with a buffered picture
            frame = source.grab(5.0).image
        return str(ReferenceStore(self.data_dir).add(self.id, role, frame, label=label, source="camera"))

    def _preset_checks(self, cam, ctx: CheckContext) -> list[CheckResult]:
        out = []
        if not self.roles:
            return out
        memory = self._memory()
        try:
            before = cam.position(), cam.zoom_position()
        except DeviceError:
            before = None
        for role, n in self.roles.items():
            check = f"preset_{role}"
            params = {"role": role_label(role), "preset": n}
            if ctx.cancelled.is_set() or ctx.remaining() <= 0:
                out.append(self.result(check, False, code="camera.preset_skipped", **params))
                continue
            started = time.monotonic()
            try:
                cam.recall(n)
                pan, tilt = cam.position()
                again = cam.position()
            except DeviceError as exc:
                out.append(self.result(check, False, code="camera.preset_failed", detail=str(exc), **params))
                continue
            value = {"pan": pan, "tilt": tilt, "seconds": round(time.monotonic() - started, 3)}
            expected = memory.get(str(n))
            if abs(again[0] - pan) > self.tolerance or abs(again[1] - tilt) > self.tolerance:
                out.append(self.result(check, False, value=value, code="camera.preset_moving",
                                       detail=f"preset {n} ({role}) reported done at pan {pan} tilt {tilt}, then "
                                              f"pan {again[0]} tilt {again[1]}", **params))
            elif expected and (abs(pan - expected[0]) > self.tolerance or abs(tilt - expected[1]) > self.tolerance):
                out.append(self.result(check, False, value=value, code="camera.preset_off",
                                       detail=f"preset {n} ({role}) landed at pan {pan} tilt {tilt}, stored at pan "
                                              f"{expected[0]} tilt {expected[1]} (tolerance {self.tolerance})",
                                       **params))
            else:
                out.append(self.result(check, True, value=value, code="camera.preset",
                                       detail=f"preset {n} ({role}) recalled to pan {pan} tilt {tilt}", **params))
                out.extend(self._picture_checks(check, role, ctx))
        if before is not None:
            try:   # put the camera back where the technician left it
                cam.move_absolute(*before[0], speed=0x18)
                cam.zoom_to(before[1])
            except DeviceError as exc:
                log.warning("camera %s: could not return to its position after the self-test: %s", self.id, exc)
        return out
