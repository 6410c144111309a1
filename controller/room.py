"""The room: the one owner of room state.

Every change to the room's state happens on one thread (``room``), fed by a queue:
device coordinators report availability transitions, the self-test runner reports
results, commands arrive from the panel and from MQTT. Readers (panel, MQTT, CLI) get
an immutable :class:`Readiness` value, replaced whole on every change, so they never
see half an update and never take a lock.

Checks run in a small pool so one slow device does not hold the others up; each device's
whole check has a deadline. The controller announces what happens on its
:class:`EventBus`; it knows nothing of the panel or MQTT.
"""
from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import functools
import logging
import queue
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from vksroom.controller.texts import Refused
from vksroom.controller import commands as cmds
from vksroom.controller import events as ev
from vksroom.controller import texts as tx
from vksroom.controller.config import RoomConfig
from vksroom.controller.coordinator import Coordinator
from vksroom.controller.devices import CheckContext, DeviceAdapter, adapter_for
from vksroom.controller.model import ONLINE_CHECK, CheckResult, DeviceState, Readiness, RoomState, verdict
from vksroom.controller.pictures import Pictures
from vksroom.controller.store import Store
from vksroom.drivers.errors import DeviceError

if TYPE_CHECKING:   # built on the room by assemble.build_room; the room imports neither
    from vksroom.controller.lifecycle import Lifecycle
    from vksroom.controller.watch import HearingWatch

log = logging.getLogger(__name__)

LINK = ONLINE_CHECK                # the live check every coordinator keeps
STALE_WHEN_BACK = {"reachable", "timeout"}   # self-test failures a recovery supersedes
HEARTBEAT_S = 300.0                # readiness is re-announced at least this often
VALID_FOR_S = 900.0                # the centre should not trust a readiness older than this
SYSTEM = "system"                  # the room's own checks (clock, GPIO): one more "device" in readiness


class Controller:
    def __init__(self, cfg: RoomConfig, adapters: dict[str, DeviceAdapter] | None = None,
                 store: Store | None = None, clock: Callable[[], float] = time.time):
        self.cfg = cfg
        self.clock = clock
        self.events = ev.EventBus()
        self.data_dir = Path(cfg.data_dir)
        self.store = store or Store(self.data_dir / "room.sqlite3")
        if adapters is None:
            adapters = {d.id: adapter_for(d, self.data_dir) for d in cfg.devices.values()}
        self._adapters = adapters
        self._coords = {
            dev_id: Coordinator(a, self._device_changed, cfg.selftest.poll_interval_s)
            for dev_id, a in adapters.items()
        }
        self._pool = cf.ThreadPoolExecutor(max_workers=cfg.selftest.workers, thread_name_prefix="check")
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._owner = threading.Thread(target=self._loop, name="room", daemon=True)
        self._changed = threading.Condition()
        # -- state below is touched only on the room thread --
        self._link: dict[str, CheckResult | None] = {dev_id: None for dev_id in adapters}
        self._live: dict[str, tuple[CheckResult, ...]] = {dev_id: () for dev_id in adapters}
        self._values: dict[str, dict] = {dev_id: {} for dev_id in adapters}
        self._checks: dict[str, tuple[CheckResult, ...]] = {dev_id: () for dev_id in adapters}
        self._suspended: str | None = None
        self.suspended_by = ""       # who suspended VKS, when vks.suspend said so (the panel's banner)
        self._run_id: int | None = None
        self._last_run: dict | None = None
        self._published_at = 0.0
        self._running_checks: list = []   # CheckContexts of a self-test under way (cancelled on stop)
        self._progress: dict = {}          # the self-test under way, per device (selftest_progress)
        self._hearing: str | None = None   # the hearing under way (set by the lifecycle)
        self._system: dict[str, CheckResult] = {}   # check -> the room's own check (set_system_check)
        self._readiness = self._compute()
        # What is built on the room (the lifecycle, the in-hearing watch): see assemble.build_room.
        self._services: list = []
        # The room's own commands, as controller/commands.py declares them.
        self._handlers: dict[str, Callable[[dict], dict]] = {
            c.name: c.resolve(self) for c in cmds.MQTT_COMMANDS.values() if c.owner == "room"}
        self.lifecycle: Lifecycle | None = None     # set by assemble.build_room
        self.watch: HearingWatch | None = None
        # The cameras' pictures for the panel: readers started when someone looks, never in a
        # request thread.
        self.pictures = Pictures.for_room(cfg)
        self.attach(self.pictures)

    def attach(self, service, commands: dict[str, Callable[[dict], dict]] | None = None) -> None:
        """Build on the room: ``service.start()`` after the devices start, ``stop()`` before they
        stop; ``commands`` join the room's own: each declared in controller/commands.py (as an
        MQTT command), and handled once."""
        clash = set(commands or {}) & set(self._handlers)
        if clash:
            raise ValueError(f"commands handled twice: {', '.join(sorted(clash))}")
        undeclared = set(commands or {}) - set(cmds.MQTT_COMMANDS)
        if undeclared:
            raise ValueError(f"commands without a declaration in controller/commands.py: {', '.join(sorted(undeclared))}")
        self._services.append(service)
        self._handlers.update(commands or {})

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> "Controller":
        self._owner.start()
        for coord in self._coords.values():
            coord.start()
        for service in self._services:
            service.start()
        return self

    def stop(self) -> None:
        for ctx in list(self._running_checks):   # a self-test under way stops between its steps
            ctx.cancelled.set()
        for service in reversed(self._services):
            service.stop()
        for coord in self._coords.values():
            coord._stop.set()
            coord._wake.set()
        deadline = time.monotonic() + 2.0      # all devices share one short grace period
        for coord in self._coords.values():
            coord.stop(timeout=max(0.05, deadline - time.monotonic()))
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._inbox.put(None)
        if self._owner.is_alive():
            self._owner.join(3.0)
        self.store.close()

    # -- reading ------------------------------------------------------------------------

    def readiness(self) -> Readiness:
        return self._readiness

    def device_ids(self) -> list[str]:
        return list(self._adapters)

    def adapter(self, device_id: str) -> DeviceAdapter:
        try:
            return self._adapters[device_id]
        except KeyError:
            raise KeyError(f"no device {device_id!r} in this room") from None

    def wait_for(self, predicate: Callable[[Readiness], bool], timeout: float) -> Readiness | None:
        """Block until ``predicate(readiness)`` holds; None on timeout (for the CLI and tests)."""
        with self._changed:
            if self._changed.wait_for(lambda: predicate(self._readiness), timeout):
                return self._readiness
        return None

    def alive(self, timeout: float = 5.0) -> bool:
        """True when the room thread answers within ``timeout`` (for the systemd watchdog)."""
        try:
            self._call(lambda: None, timeout=timeout)
            return True
        except Exception:
            return False

    # -- acting -------------------------------------------------------------------------

    def run_on(self, device_id: str, fn: Callable[[DeviceAdapter], object], timeout: float = 10.0):
        """Run ``fn(adapter)`` on the check pool holding that device's lock."""
        coord = self._coords.get(device_id)
        if coord is None:
            raise KeyError(f"no device {device_id!r} in this room")
        return self._pool.submit(coord.call, fn).result(timeout)

    def run_selftest(self, trigger: str = "manual") -> int:
        """Start a self-test of every device (or join the one running); returns its run id."""
        done: cf.Future = cf.Future()
        self.post(self._begin_selftest, trigger, done)
        return done.result(timeout=10)

    def selftest_progress(self) -> dict | None:
        """The self-test under way: {run_id, elapsed_s, deadline_s, devices: {id: {done, ok}}}, else None."""
        progress = self._progress
        if not progress or progress["run_id"] != self._run_id:
            return None
        return {"run_id": progress["run_id"], "elapsed_s": time.monotonic() - progress["started"],
                "deadline_s": self.cfg.selftest.check_timeout_s,
                "devices": {d: dict(v) for d, v in progress["devices"].items()}}

    def selftest(self, trigger: str = "manual", timeout: float | None = None) -> dict:
        """Run a self-test and wait for its result: {run_id, state, reasons, results}."""
        run_id = self.run_selftest(trigger)
        timeout = timeout if timeout is not None else self.cfg.selftest.check_timeout_s + 10
        with self._changed:
            finished = self._changed.wait_for(
                lambda: self._last_run is not None and self._last_run["run_id"] == run_id, timeout)
        run = self._last_run
        if not finished or run is None:
            raise TimeoutError(f"self-test {run_id} did not finish within {timeout:.0f} s")
        return run

    def command(self, name: str, args: dict) -> dict:
        """A command from the centre or the panel, its arguments checked against its declaration
        (controller/commands.py) before its handler runs. Raises :class:`Refused` naming the
        first bad argument; a refused command changes nothing."""
        handler = self._handlers.get(name)
        if handler is None:
            raise Refused("refused.unknown_command")
        cmds.check(cmds.MQTT_COMMANDS[name], args)
        return handler(dict(args))

    def set_hearing(self, hearing_id: str | None) -> None:
        """The room is in a hearing (state in_hearing) or no longer; called by the lifecycle."""
        if threading.current_thread() is self._owner:
            self._set_hearing(hearing_id)
        else:
            self._call(self._set_hearing, hearing_id)

    def _set_hearing(self, hearing_id: str | None) -> None:
        self._hearing = hearing_id
        self._pace()
        self._refresh()

    def _pace(self) -> None:
        """Devices are polled at their full pace during a hearing or a self-test, slower idle."""
        busy = self._hearing is not None or self._run_id is not None
        for coord in self._coords.values():
            coord.set_busy(busy)

    def poke(self, device_id: str) -> None:
        """Try the device now rather than at its next poll (after its power came back)."""
        coord = self._coords.get(device_id)
        if coord is not None:
            coord.poke()

    def commands(self) -> list[str]:
        return sorted(self._handlers)

    def _cmd_selftest(self, args: dict) -> dict:
        return {"run_id": self.run_selftest(args.get("trigger", "mqtt"))}

    def _cmd_status(self, args: dict) -> dict:
        return self._readiness.to_dict()

    def _cmd_suspend(self, args: dict) -> dict:
        self.suspended_by = (args.get("by") or "").strip()
        self._call(self._set_suspended, args["reason"].strip())
        return {"state": RoomState.SUSPENDED.value}

    def _cmd_resume(self, args: dict) -> dict:
        self._call(self._set_suspended, None)
        self.suspended_by = ""
        return {"state": self._readiness.state.value}

    # -- the room thread ----------------------------------------------------------------

    # -- the room thread, also for the planner that lives beside it ----------------------
    def post(self, fn, *args) -> None:
        """Run ``fn(*args)`` on the room thread after what it is doing now (returns at once)."""
        self._inbox.put((fn, args))

    def on_room_thread(self) -> bool:
        return threading.current_thread() is self._owner

    @property
    def thread_alive(self) -> bool:
        """The room thread runs (started, not stopped)."""
        return self._owner.is_alive()

    def _call(self, fn, *args, timeout: float = 10.0):
        """Run ``fn`` on the room thread and wait for its result."""
        done: cf.Future = cf.Future()

        def run():
            try:
                done.set_result(fn(*args))
            except BaseException as exc:
                done.set_exception(exc)

        self.post(run)
        return done.result(timeout=timeout)

    def _loop(self) -> None:
        self._announce(self._readiness)
        while True:
            try:
                item = self._inbox.get(timeout=HEARTBEAT_S / 10)
            except queue.Empty:
                item = ()
            if item is None:
                return
            if item:
                fn, args = item
                try:
                    fn(*args)
                except Exception:
                    log.exception("room: %s failed", getattr(fn, "__name__", fn))
            if self.clock() - self._published_at >= HEARTBEAT_S:
                self._refresh(force=True)

    def _device_changed(self, dev_id: str, available: bool, detail: str, values: dict, live: tuple) -> None:
        self.post(self._apply_poll, dev_id, available, detail, values, live)

    def _apply_poll(self, dev_id: str, available: bool, detail: str, values: dict, live: tuple) -> None:
        """A poll's news: availability, the values it read and the health they show."""
        was = self._link.get(dev_id)
        adapter = self._adapters[dev_id]
        # The link's time is the room's clock's, as its device log row's: a lost link's alarm opens
        # after first aid and says when the poll lost it (first_seen), kept while it stays lost.
        now = self.clock()
        if available:
            # Still answering: the same link check, with the time it came back (a new one per
            # poll would make each poll's new levels a change of meaning, announced).
            link = was if was is not None and was.ok else dataclasses.replace(
                adapter.live(LINK, True, "device.link"), at=now)
            # A failure that only said "could not reach it" is superseded by its return.
            self._checks[dev_id] = tuple(c for c in self._checks[dev_id] if c.check not in STALE_WHEN_BACK)
        else:
            link = dataclasses.replace(adapter.live(LINK, False, "device.unreachable"), detail=detail,
                                       at=was.at if was is not None and not was.ok else now)
        self._link[dev_id] = link
        if was is None or was.ok != available:
            self.store.log_device(dev_id, available, detail, now)
            if was is not None or not available:
                self._announce_check(dev_id, link)
        before = {c.check: c for c in self._live[dev_id]}
        for c in live:
            old = before.get(c.check)
            if c is not old and (old is not None and old.ok != c.ok or old is None and not c.ok):
                self._announce_check(dev_id, c)
        self._live[dev_id], self._values[dev_id] = tuple(live), dict(values)
        self._refresh()

    def _announce_check(self, dev_id: str, check: CheckResult) -> None:
        """A device's fault or recovery, as the centre and the lifecycle hear it."""
        dcfg = self.cfg.devices.get(dev_id)
        self.events.publish(ev.Event(ev.DEVICE_RECOVERED if check.ok else ev.DEVICE_FAULT, {
            "device": dev_id, "check": check.check, "code": check.code, "params": check.params,
            # what people read: the sentence in the room's language (check.reason is the log's English)
            "reason": "" if check.ok else check.sentence(), "text": {} if check.ok else check.texts(),
            "detail": check.detail, "required": dcfg.required if dcfg else True}))

    def set_system_check(self, check: str, ok: bool, code: str, params: dict | None = None,
                         detail: str = "") -> None:
        """The room's own health (the clock, the GPIO), shown in readiness as the device ``system``;
        the newest word on each ``check`` stands."""
        result = CheckResult(SYSTEM, check, ok, code=code, params=params or {}, detail=detail, live=True,
                             at=self.clock())
        if self.on_room_thread():
            self._apply_system(result)
        else:
            self.post(self._apply_system, result)

    def _apply_system(self, result: CheckResult) -> None:
        old = self._system.get(result.check)
        self._system[result.check] = result
        changed = old.ok != result.ok if old is not None else not result.ok
        if changed:   # announced as a device's fault or recovery is: the centre and the alarms hear it
            self._announce_check(SYSTEM, result)
        self._refresh()

    def forget(self, dev_id: str, check: str) -> None:
        """Drop a self-test's finding (marked fixed by the technician): the next self-test judges again."""
        def drop():
            self._checks[dev_id] = tuple(c for c in self._checks.get(dev_id, ()) if c.check != check)
            self._refresh()
        if self.on_room_thread():
            drop()
        else:
            self._call(drop)

    def _set_suspended(self, reason: str | None) -> None:
        self._suspended = reason
        self._refresh()

    def _begin_selftest(self, trigger: str, done: cf.Future) -> None:
        if self._run_id is not None:
            done.set_result(self._run_id)
            return
        if self._suspended:
            done.set_exception(Refused("refused.suspended"))
            return
        if self._hearing is not None:   # a self-test recalls presets and places a test call
            done.set_exception(Refused("refused.in_hearing"))
            return
        run_id = self.store.start_run(trigger, self.clock())
        self._run_id = run_id
        self._pace()
        devices = {dev_id: {"done": False, "ok": None} for dev_id in self._coords}
        self._progress = {"run_id": run_id, "started": time.monotonic(), "devices": devices}
        done.set_result(run_id)
        self.events.publish(ev.Event(ev.SELFTEST_STARTED, {"run_id": run_id, "trigger": trigger}))
        self._refresh()
        ctx_deadline = time.monotonic() + self.cfg.selftest.check_timeout_s
        threading.Thread(target=self._run_checks, args=(run_id, trigger, ctx_deadline, devices),
                         name=f"selftest-{run_id}", daemon=True).start()

    def _run_checks(self, run_id: int, trigger: str, deadline: float, devices: dict) -> None:
        """Off the room thread: run every device's checks in parallel, each with a deadline
        (``devices``: each one's progress, filled in as it finishes)."""
        futures = {}
        for dev_id, coord in self._coords.items():
            ctx = CheckContext(deadline=deadline, data_dir=self.data_dir, trigger=trigger)
            self._running_checks.append(ctx)
            try:
                fut = self._pool.submit(self._check_device, coord, ctx)
            except RuntimeError:       # the room is stopping: the pool takes no more work
                fut = cf.Future()
                fut.set_exception(RuntimeError("the room stopped during the self-test"))
            futures[dev_id] = (fut, ctx)
            fut.add_done_callback(functools.partial(self._device_checked, devices[dev_id]))
        results: dict[str, tuple[CheckResult, ...]] = {}
        for dev_id, (fut, ctx) in futures.items():
            label = self._coords[dev_id].adapter.label
            try:
                results[dev_id] = tuple(fut.result(timeout=max(0.0, deadline - time.monotonic())))
            except cf.TimeoutError:
                ctx.cancelled.set()
                limit = self.cfg.selftest.check_timeout_s
                results[dev_id] = (CheckResult(dev_id, "timeout", False, "", limit, "device.check_timeout",
                                               {"device": label, "seconds": limit}),)
            except Exception as exc:  # the pool was shut down under us
                results[dev_id] = (CheckResult(dev_id, "error", False, "", None, "device.check_error",
                                               {"device": label}, detail=str(exc) or type(exc).__name__),)
        self._running_checks = [c for c in self._running_checks if all(c is not x for _, x in futures.values())]
        self.post(self._finish_selftest, run_id, results)

    def _device_checked(self, progress: dict, fut: cf.Future) -> None:
        progress.update(done=True, ok=not fut.exception() and all(r.ok for r in fut.result()))
        with self._changed:          # waiters (a page's test, the CLI) see each device finish
            self._changed.notify_all()

    @staticmethod
    def _check_device(coord: Coordinator, ctx: CheckContext) -> list[CheckResult]:
        dev_id = coord.adapter.id
        started = time.monotonic()
        try:
            results = coord.call(lambda adapter: adapter.run_checks(ctx))
        except DeviceError as exc:
            results = [CheckResult(dev_id, "reachable", False, "", None, "device.unreachable",
                                   {"device": coord.adapter.label}, detail=str(exc),
                                   duration_s=time.monotonic() - started)]
        except Exception as exc:
            log.exception("%s: check crashed", dev_id)
            results = [CheckResult(dev_id, "error", False, "", None, "device.check_error",
                                   {"device": coord.adapter.label},
                                   detail=f"internal error: {type(exc).__name__}: {exc}",
                                   duration_s=time.monotonic() - started)]
        coord.poke()
        return results

    def _finish_selftest(self, run_id: int, results: dict[str, tuple[CheckResult, ...]]) -> None:
        self._checks.update(results)
        self._run_id = None
        self._pace()
        readiness = self._compute()
        # The run's verdict is the devices' (a test during a hearing is not "in_hearing").
        state = readiness.state if readiness.state is RoomState.SUSPENDED else readiness.verdict
        flat = [r for rs in results.values() for r in rs]
        self.store.finish_run(run_id, state.value, list(readiness.reasons), flat, self.clock())
        self._last_run = {"run_id": run_id, "state": state.value, "reasons": list(readiness.reasons),
                          "readiness": readiness.to_dict()}
        self._refresh()
        self.events.publish(ev.Event(ev.SELFTEST_FINISHED, {"run_id": run_id, "state": state.value,
                                                             "reasons": list(readiness.reasons)}))
        with self._changed:
            self._changed.notify_all()

    def _compute(self) -> Readiness:
        devices = []
        for dev_id in self._adapters:
            dcfg = self.cfg.devices.get(dev_id)
            state = DeviceState.from_checks(dev_id, dcfg.type if dcfg else "device",
                                            dcfg.required if dcfg else True, self._device_checks(dev_id),
                                            label=dcfg.label if dcfg else dev_id)
            devices.append(self._since(dataclasses.replace(state, values=self._values.get(dev_id, {}))))
        if self._system:
            devices.append(self._since(DeviceState.from_checks(SYSTEM, SYSTEM, True, tuple(self._system.values()))))
        room_state, reasons = verdict(devices)
        fitness, activity = room_state, ""
        if self._suspended:
            room_state, reasons = RoomState.SUSPENDED, [tx.say("room.suspended", {"reason": self._suspended})] + reasons
        elif self._run_id is not None:
            room_state, activity = RoomState.TESTING, "selftest"
        elif self._hearing is not None:
            room_state, activity = RoomState.IN_HEARING, "hearing"
        now = self.clock()
        return Readiness(self.cfg.court_id, self.cfg.courtroom, room_state, tuple(devices), tuple(reasons),
                         now, now + VALID_FOR_S, activity, fitness, self._suspended or "")

    def _since(self, state: DeviceState) -> DeviceState:
        """A device's health holds since it began, not since this recomputation."""
        before = self._readiness.device(state.id) if hasattr(self, "_readiness") else None
        if before is not None and before.health is state.health:
            return dataclasses.replace(state, since=before.since)
        return state

    def _device_checks(self, dev_id: str) -> tuple[CheckResult, ...]:
        """The link, the live checks and the self-test's findings, the newest word on each thing.

        A live check answers a self-test's finding on the same thing once it is newer (the
        camera in standby at the test, on since); a finding newer than the live check stands
        until the poll's view changes. While the device does not answer, its live checks are
        unknown and left out."""
        link = self._link.get(dev_id)
        live = self._live.get(dev_id, ()) if link is not None and link.ok else ()
        found = self._checks.get(dev_id, ())
        adapter = self._adapters[dev_id]
        kept_found = tuple(f for f in found if not any(adapter.clears(c, f) and c.at >= f.at for c in live))
        kept_live = tuple(c for c in live if not any(f.check == c.check and f.at > c.at for f in kept_found))
        return ((link,) if link else ()) + kept_live + kept_found

    def _refresh(self, force: bool = False) -> None:
        new = self._compute()
        old = self._readiness
        self._readiness = new
        if force or _meaning(new) != _meaning(old):   # values alone (levels...) are read, not announced
            self._announce(new)
        with self._changed:     # after the announcement: whoever waited on this state has heard it too
            self._changed.notify_all()

    def _announce(self, readiness: Readiness) -> None:
        self._published_at = self.clock()
        self.events.publish(ev.Event(ev.READINESS, readiness.to_dict()))


def _meaning(r: Readiness) -> tuple:
    """What a readiness says, without when it was measured or the poll's raw values."""
    return (r.state, r.verdict, r.reasons, r.activity,
            [{k: v for k, v in d.to_dict().items() if k not in ("since", "values")} for d in r.devices])
