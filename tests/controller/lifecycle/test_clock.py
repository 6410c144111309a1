"""The planner's clocks: the manual one moves only when told; the real one fires on time."""
import threading

import pytest

from vksroom.controller.clock import ManualClock, RealClock


def test_manual_clock_fires_due_timers_in_order_at_their_own_time():
    clock = ManualClock(1000.0)
    fired = []
    clock.call_at(1030, lambda: fired.append(("b", clock.now())))
    clock.call_at(1010, lambda: fired.append(("a", clock.now())))
    late = clock.call_at(5000, lambda: fired.append(("late", clock.now())))
    clock.advance(60)
    assert fired == [("a", 1010.0), ("b", 1030.0)]
    assert clock.now() == 1060.0
    late.cancel()
    clock.advance(10_000)
    assert len(fired) == 2 and clock.pending() == []


def test_timers_scheduled_by_a_callback_fire_in_the_same_advance_and_past_ones_at_once():
    clock = ManualClock(0.0)
    fired = []
    clock.call_at(10, lambda: clock.call_later(5, lambda: fired.append(clock.now())))
    clock.advance(20)
    assert fired == [15.0]
    clock.call_at(3, lambda: fired.append("overdue"))   # already past: fires on the next advance
    clock.advance(0)
    assert fired == [15.0, "overdue"]


def test_manual_clock_refuses_to_go_back_and_survives_a_failing_callback():
    clock = ManualClock(100.0)
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-1)
    fired = []
    clock.call_at(101, lambda: 1 / 0)
    clock.call_at(102, lambda: fired.append(True))
    clock.advance(5)
    assert fired == [True]


@pytest.mark.timeout(10)
def test_real_clock_fires_on_time_and_cancel_holds():
    clock = RealClock()
    done = threading.Event()
    skipped = threading.Event()
    t = clock.call_later(0.5, skipped.set)
    clock.call_later(0.05, done.set)
    t.cancel()
    try:
        assert done.wait(3)
        assert not skipped.wait(0.7)
    finally:
        clock.stop()
