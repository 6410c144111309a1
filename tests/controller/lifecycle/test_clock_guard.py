"""Time truth: a Pi without a real-time clock boots with a wrong time until NTP sets it. While
the clock is not synchronised the room says so, holds what the hearing times trigger and marks
its records; a step of the clock plans again instead of firing every timer it jumped over."""
import json
import threading

import pytest

from support.lifehelp import at, clock, iso, life_room, mock_factory  # noqa: F401  (fixtures)
from vksroom.controller.clock import ManualClock, RealClock
from vksroom.controller.timesync import ClockGuard, kernel_synchronised

SIZO = {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1", "number": "sizo1@vks.kz"}


def hearing(room, hid, day, hhmm, minutes=60):
    room.controller.command("hearing.create", {"id": hid, "version": 1, "case_number": f"A-{hid}",
                                               "start": iso(day, hhmm), "duration_min": minutes, "far_side": SIZO})


def system_check(room, name="clock"):
    d = room.controller.readiness().device("system")
    return next((c for c in d.checks if c.check == name), None) if d else None


def test_an_unsynchronised_clock_is_a_fault_holds_the_hearing_and_marks_the_record(life_room, clock):
    synced = threading.Event()
    room = life_room(clock_probe=synced.is_set)
    room.wait_state("not_ready")
    readiness = room.controller.readiness()
    assert readiness.device("system").health.value == "fault"
    assert any("Часы не синхронизированы" in line for line in readiness.reason_lines("ru"))
    assert any("Сағат синхрондалмаған" in line for line in readiness.reason_lines("kk"))
    assert "fault" in room.kinds()                      # the centre hears of it too
    hearing(room, "H1", 9, "10:00")
    clock.advance_to(at(9, "10:05"))                    # warning, self-test and start all fell due
    assert room.of("selftest.started") == [] and room.of("hearing.started") == []
    assert room.of("test_session.missing") == []
    held = [json.loads(e["detail"])["action"] for e in room.life.log_entries() if e["kind"] == "planner.held"]
    assert sorted(held) == ["selftest", "start", "warn"]
    marked = [json.loads(e["detail"]).get("clock_unsynchronised") for e in room.life.log_entries()]
    assert marked and all(marked)

    synced.set()                                        # NTP answered
    room.life.clock_guard.check()
    room.wait(lambda: system_check(room) is not None and system_check(room).ok)
    clock.advance(0)                                    # planned again from the true time: the hearing is on
    room.wait(lambda: room.of("hearing.started") != [])
    assert room.of("hearing.started")[0]["hearing_id"] == "H1"
    started = next(e for e in room.life.log_entries() if e["kind"] == "hearing.started")
    assert "clock_unsynchronised" not in json.loads(started["detail"])
    assert "recovered" in room.kinds()


def test_a_step_of_the_clock_plans_again_instead_of_firing_a_burst(life_room, clock):
    room = life_room()
    room.wait_state("ready")
    for hid, hhmm in (("H1", "09:00"), ("H2", "10:00"), ("H3", "11:00"), ("H4", "14:00")):
        hearing(room, hid, 10, hhmm, minutes=30)
    clock.step_to(at(10, "11:10"))                      # NTP sets a clock that was a day behind
    clock.advance(0)
    started = [d["hearing_id"] for d in room.of("hearing.started")]
    assert started == ["H3"]                            # the one under way now, not H1 and H2 that are over
    assert room.of("selftest.started") == []            # no self-test for hearings long past or under way
    # one warning, for the hearing still ahead, not one per timer the step jumped over
    assert [d["hearing_id"] for d in room.of("test_session.missing")] == ["H4"]
    assert any(e["kind"] == "clock.stepped" for e in room.life.log_entries())
    assert ("selftest-H4" in [n for _, n in room.life.planned()])   # the later one keeps its plan


def test_manual_clock_step_hands_the_jumped_timers_to_the_listeners_once():
    clock = ManualClock(1000.0)
    fired, steps = [], []
    for when in (1100, 1200, 1300, 9000):
        clock.call_at(when, fired.append, when)
    clock.on_step(lambda expected, now, skipped: steps.append((expected, now, [t.when for t in skipped])))
    clock.step_to(5000)
    assert fired == [] and steps == [(1000.0, 5000.0, [1100.0, 1200.0, 1300.0])]
    clock.advance_to(9000)
    assert fired == [9000]


@pytest.mark.timeout(10)
def test_real_clock_sees_a_step_of_the_wall_clock_and_fires_none_of_the_jumped_timers():
    wall = [1_000_000.0]
    clock = RealClock(now=lambda: wall[0])
    fired = []
    stepped = threading.Event()
    seen = []
    clock.on_step(lambda expected, now, skipped: (seen.append([t.name for t in skipped]), stepped.set()))
    for i in range(5):
        clock.call_at(wall[0] + 600 * (i + 1), fired.append, i, name=f"t{i}")
    wall[0] += 86_400                                   # the wall clock jumps a day
    clock.call_later(3600, fired.append, "later")       # any wake-up lets the scheduler see it
    assert stepped.wait(5)
    clock.stop()
    assert seen == [["t0", "t1", "t2", "t3", "t4"]] and fired == []


def test_a_probe_that_cannot_say_or_fails_does_not_hold_the_room():
    class Room:
        def __init__(self):
            self.checks = []

        def set_system_check(self, check, ok, code, **kw):
            self.checks.append((check, ok, code))

    room = Room()
    assert ClockGuard(room, lambda: None).check() is True
    assert ClockGuard(room, lambda: 1 / 0).check() is True
    assert ClockGuard(room, lambda: False).check() is False
    assert room.checks[-1] == ("clock", False, "system.clock_unsynced")
    assert kernel_synchronised() in (True, False)      # Linux answers adjtimex without privileges
