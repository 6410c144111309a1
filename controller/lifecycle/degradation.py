"""The watch during a hearing (rule item 22): the call state and device links sampled on the
clock, picture and microphone verdicts reported by the device stacks. A degradation that lasts
past its threshold opens the device's alarm for that cause and, in a hearing, recommends a
technical break; the alarm closes as recovered when the check passes again."""
from __future__ import annotations

from vksroom.controller import events as ev
from vksroom.controller import texts as tx
from vksroom.controller import quality
from vksroom.controller.clock import Timer
from vksroom.controller.lifecycle.base import Parts
from vksroom.controller.model import ONLINE_CHECK, CheckResult
from vksroom.controller.schedule import iso_utc

CHECK_CLASS = {"camera": "video", "dsp": "audio", "codec": "call"}


class Degradation:
    def __init__(self, parts: Parts, life):
        self.p = parts
        self.life = life
        self._degraded: dict[tuple, dict] = {}   # (hearing, device, check) -> {"since", "reported", ...}
        self._break: dict[str, dict] = {}        # hearing -> the recommendation in force
        self._tick: Timer | None = None
        self._reconnected: dict[str, bool] = {}  # hearing -> awaiting the first reading after a reconnect

    def break_for(self, hid: str) -> dict | None:
        return self._break.get(hid)

    def any_break(self) -> bool:
        return bool(self._break)

    def forget(self, hid: str) -> dict | None:
        """The hearing ended or was reconnected: its degradations start afresh; returns its break."""
        with self.p.lock:
            for key in [k for k in self._degraded if k[0] == hid]:
                del self._degraded[key]
            return self._break.pop(hid, None)

    def start(self) -> None:
        with self.p.lock:
            if self._tick:
                self._tick.cancel()
            self._tick = self.p.clock.call_later(self.p.settings.watch_interval_s, self._watch, name="watch")

    def stop(self) -> None:
        with self.p.lock:
            if self._tick:
                self._tick.cancel()
        self.life.quality.clear()      # the hearing is over: its call's figures go with it

    def _watch(self) -> None:
        hid = self.life.planner.on
        if hid is None:
            return
        dialler = self.life.dialler
        if self.life.planner.connected(hid) and dialler.calls is not None and not dialler.busy:
            try:
                state, detail = dialler.state(), ""
            except Exception as exc:
                state, detail = "unknown", str(exc)
            h = self.life.schedule.get(hid)
            self.sample(hid, dialler.device_id, "call", state == "connected", "call.dropped",
                        {"far_side": h.far_side.name if h else ""}, {"call_state": state, "detail": detail})
        for d in self.p.room.readiness().devices:
            link = next((c for c in d.checks if c.check == ONLINE_CHECK), None)
            if link is not None:   # the link's own incident comes from the room state: no second alarm
                self.sample(hid, d.id, "link", link.ok, link.code, link.params, {"detail": link.detail}, alarm=False)
        self.start()

    def call_quality(self, device: str, q: dict) -> None:
        """A reading of a call's figures: kept for the record, the panel and the centre; the first
        reading after a reconnect goes into the hearing record beside the one before it."""
        hid = self.life.planner.on
        if hid is None:           # a reading in flight as the hearing ended
            return
        new_call = self.life.quality.add(device, q)
        with self.p.lock:
            after = new_call and self._reconnected.pop(hid, None)
        if after:
            self.p.log("quality.after_reconnect", hid, detail={"device": device, "quality": q})
        if self.life.quality.due(self.p.clock.now()):
            self.p.publish(ev.CALL_QUALITY, {"hearing_id": hid, "device": device, "quality": q})

    def reconnecting(self, hid: str) -> dict:
        """The figures before a reconnect (for its record row); the next call's first reading follows."""
        with self.p.lock:
            self._reconnected[hid] = True
        return self.life.quality.latest()

    def report(self, results: list[CheckResult]) -> None:
        """Frame verdicts, microphone levels... from the device stacks, as check results."""
        hid = self.life.planner.on
        for r in results:
            self.sample(hid, r.device, r.check, r.ok, r.code, r.params, {"value": r.value, "detail": r.detail})

    def sample(self, hid, device: str, check: str, ok: bool, code: str, params: dict, evidence: dict,
               alarm: bool = True) -> None:
        key = (hid, device, check)
        now = self.p.clock.now()
        incidents = self.life.incidents
        if ok:
            withdrawn = None
            with self.p.lock:
                gone = self._degraded.pop(key, None)
                if gone and hid and not any(k[0] == hid for k in self._degraded) and hid in self._break:
                    self.p.log("quality.restored", hid, detail={"device": device, "check": check})
                    withdrawn = self._break.pop(hid)     # nothing degrades any more: no break to take
                incident = incidents.find(f"watch:{device}:{check}")
            if incident is not None:   # outside the lock: announcing waits for the room thread
                incidents.recovered(incident, "alarm.closed.recovered")
            if withdrawn is not None:
                self.p.publish(ev.BREAK_WITHDRAWN, {"hearing_id": hid, "device": withdrawn["device"],
                                                    "check": withdrawn["check"], "restored_by": check})
                self.life.outputs.show()
                self.p.notify()
            return
        with self.p.lock:
            bad = self._degraded.setdefault(key, {"since": now, "reported": False})
            bad["code"], bad["params"], bad["evidence"] = code, params, evidence
            lasted = now - bad["since"]
            if lasted < self._threshold(device, check) or bad["reported"]:
                return
            bad["reported"] = True
        params = {"device": self.p.label(device), **params}
        detail = {"device": device, "check": check, "code": code, "params": params, "seconds": round(lasted),
                  "since": iso_utc(bad["since"]), "evidence": evidence}
        if alarm:
            dcfg = self.p.cfg.devices.get(device)
            incidents.raise_(f"watch:{device}:{check}", "fault" if dcfg is None or dcfg.required else "warning",
                             code, params, detail, hearing_id=hid,
                             device=device, first_seen=bad["since"])
        if hid is None:
            return
        with self.p.lock:
            first = hid not in self._break
            self._break.setdefault(hid, detail)
        if first:
            self.p.log("break.recommended", hid, detail=detail)
            self.p.publish(ev.BREAK_RECOMMENDED, {"hearing_id": hid, **detail, "reason": tx.say(code, params)})
            self.life.outputs.show()
            self.p.notify()

    def _threshold(self, device: str, check: str) -> float:
        lasts = quality.duration(self.life.quality.limits, check)
        if lasts is not None:
            return lasts
        limits = self.p.settings.degrade_after_s
        if check in ("call", "link"):
            return limits.get(check, 15.0)
        dcfg = self.p.cfg.devices.get(device)
        return limits.get(CHECK_CLASS.get(dcfg.type if dcfg else "", ""), limits.get("video", 20.0))
