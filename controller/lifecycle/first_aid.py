"""First aid (rule item 14): a required device that stops answering and has a power relay is
power-cycled once (cut, restored, then given time to answer) before its fault is declared.
At most once per device in ``first_aid_cooldown_s``; never while VKS is suspended."""
from __future__ import annotations

from vksroom.controller import events as ev
from vksroom.controller import texts as tx
from vksroom.controller.lifecycle.base import Parts
from vksroom.controller.schedule import iso_utc


# each step's sentence (the act's measure of the same name)
SAID = {"power_off": "first_aid.power_off", "power_on": "first_aid.power_on", "worked": "first_aid.worked",
        "failed": "first_aid.failed"}


class FirstAid:
    def __init__(self, parts: Parts, life):
        self.p = parts
        self.life = life
        self._state: dict[str, dict] = {}     # device -> {"at", "state", "reason", "timers"}
        self._lost: dict[str, str] = {}       # device -> what the driver said, while not answering

    def snapshot(self) -> dict:
        with self.p.lock:
            return {d: {k: v for k, v in fa.items() if k != "timers"} for d, fa in self._state.items()}

    def pending(self, dev: str) -> bool:
        fa = self._state.get(dev)
        return fa is not None and fa["state"] in ("power_off", "power_on")

    def busy(self) -> bool:
        return any(self.pending(d) for d in list(self._state))

    def history(self, dev: str) -> list[dict]:
        """What first aid did to ``dev`` lately (evidence for its alarm)."""
        return [{"at": iso_utc(r["at"]), "action": r["kind"]} for r in self.p.store.query(
            "SELECT at, kind FROM room_log WHERE device=? AND kind LIKE 'first_aid.%' AND at>=? ORDER BY id",
            (dev, self.p.clock.now() - self.p.settings.first_aid_cooldown_s))]

    def stop(self) -> None:
        with self.p.lock:
            for fa in self._state.values():
                for t in fa.get("timers", ()):
                    t.cancel()

    def _announce(self, dev: str, action: str) -> None:
        """A first-aid step for the centre: the action by its key, its sentence naming the device."""
        self.p.publish(ev.FIRST_AID, {"device": dev, "action": action,
                                      "reason": tx.say(SAID[action], {"device": self.p.label(dev)})})

    def device_lost(self, dev: str, reason: str) -> None:
        s, now, gpio = self.p.settings, self.p.clock.now(), self.life.gpio
        with self.p.lock:
            self._lost[dev] = reason
            fa = self._state.get(dev)
            recently = fa is not None and now - fa["at"] < s.first_aid_cooldown_s
            can = gpio.has_relay(dev) and not recently and not self.life.planner.suspended
            if can:
                self._state[dev] = {"at": now, "state": "power_off", "reason": reason, "timers": [
                    self.p.clock.call_at(now + s.relay_off_s, self._power_back, dev, name=f"relay-{dev}"),
                    self.p.clock.call_at(now + s.relay_off_s + s.first_aid_wait_s, self._failed, dev,
                                         name=f"first-aid-{dev}")]}
        if not can:   # the link's alarm opens from the room state
            self.life.incidents.reconcile(self.p.room.readiness().to_dict())
            return
        gpio.power(dev, False)
        self.p.log("first_aid.power_off", None, device=dev, detail={"reason": reason})
        self._announce(dev, "power_off")
        self.life.outputs.show()
        self.p.notify()

    def _power_back(self, dev: str) -> None:
        self.life.gpio.power(dev, True)
        with self.p.lock:
            if dev in self._state:
                self._state[dev]["state"] = "power_on"
        self.p.log("first_aid.power_on", None, device=dev, detail={"off_s": self.p.settings.relay_off_s})
        self._announce(dev, "power_on")
        self.p.room.poke(dev)
        self.p.notify()

    def _failed(self, dev: str) -> None:
        with self.p.lock:
            fa = self._state.get(dev)
            if fa is None or fa["state"] in ("worked", "failed") or dev not in self._lost:
                return
            fa["state"] = "failed"
        self.p.log("first_aid.failed", None, device=dev, detail={"waited_s": self.p.settings.first_aid_wait_s})
        self._announce(dev, "failed")
        self.life.incidents.reconcile(self.p.room.readiness().to_dict())

    def device_back(self, dev: str) -> None:
        with self.p.lock:
            self._lost.pop(dev, None)
            fa = self._state.get(dev)
            worked = fa if fa is not None and fa["state"] in ("power_off", "power_on") else None
            if worked is not None:
                worked["state"] = "worked"
                for t in worked["timers"]:
                    t.cancel()
        if worked is not None:
            if worked["timers"][0].active:   # came back before power was restored: restore it now
                self.life.gpio.power(dev, True)
            self.p.log("first_aid.worked", None, device=dev, detail={"after_s": self.p.clock.now() - worked["at"]})
            self._announce(dev, "worked")
            self.life.planner.repeat_selftests(f"{dev} answers again")
        self.life.outputs.show()
        self.p.notify()
