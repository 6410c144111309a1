"""A room in a hearing over a real simulated codec (pty) with short quality limits: for the
link-quality tests and the benchmark. Real clock: durations are measured as they pass."""
from __future__ import annotations

import threading
import time

from vksroom.controller import events as ev
from vksroom.controller.assemble import build_room
from vksroom.controller.config import parse
from vksroom.controller.schedule import iso_utc

FAR = {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1 г. Астаны", "number": "1001"}
LIMITS = {"poll_s": 0.25, "loss_s": 1.5, "jitter_s": 1.5, "fps_s": 1.5, "rate_s": 1.5, "sound_s": 1.5,
          "picture_s": 1.5, "far_silence_s": 1.5, "publish_s": 0.5}


class QualityRoom:
    """The room, its codec simulator, and every event it announced (``seen``)."""

    def __init__(self, tmp_path, sim, model: str = "cisco", limits: dict | None = None, devices: dict | None = None,
                 codec_options: dict | None = None):
        self.sim = sim
        codec = {"type": "codec", "model": model, "url": sim.url, "password": sim.password, "label": "Кодек",
                 **(codec_options or {})}
        if model == "cisco":
            codec["username"] = "admin"
        self.cfg = parse({
            "room": {"court_id": "ast-01", "courtroom": "3", "data_dir": str(tmp_path)},
            "devices": {"codec": codec, **(devices or {})},
            "selftest": {"poll_interval_s": 0.2},
            "lifecycle": {"call_poll_s": 0.1, "watch_interval_s": 0.5, "test_call_hold_s": 0.5, "quality": {**LIMITS, **(limits or {})}}})
        self.room = build_room(self.cfg)
        self.life = self.room.lifecycle
        self.seen: list[tuple[float, ev.Event]] = []
        self._cond = threading.Condition()
        self.room.events.subscribe(self._on)
        self.room.start()

    def _on(self, e) -> None:
        with self._cond:
            self.seen.append((time.monotonic(), e))
            self._cond.notify_all()

    def wait(self, predicate, timeout: float = 10.0) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def of(self, kind: str) -> list[dict]:
        with self._cond:
            return [e.data for _, e in self.seen if e.kind == kind]

    def at(self, kind: str) -> list[float]:
        with self._cond:
            return [t for t, e in self.seen if e.kind == kind]

    def hearing(self, hid: str = "H1") -> str:
        """Create a hearing, connect to the far side, wait until it is under way and watched."""
        start = iso_utc(time.time() + 3600)
        self.life.change_schedule("create", {"id": hid, "version": 1, "case_number": "7199-25-00-1/215",
                                             "start": start, "duration_min": 60, "far_side": FAR,
                                             "roles": ["judge"]}, "panel")
        self.life.connect(hid, "Секретарь")
        assert self.wait(lambda: any(e.kind == ev.HEARING_STARTED for _, e in self.seen)), "hearing never started"
        assert self.wait_polls(2), "no call statistics read"
        return hid

    def wait_polls(self, n: int, timeout: float = 10.0) -> bool:
        """Wait until ``n`` more readings of the call's figures have been judged."""
        return self.room.watch.wait_quality_polls(n, timeout)

    def stop(self) -> None:
        self.room.stop()
