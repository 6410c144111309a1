"""Helpers for the hearing lifecycle tests: a fast clock on a fixed court day and stand-in devices.

The court day is Monday 10 March 2025 in Astana (UTC+5). Times are written in court time
with :func:`at` and turned into UTC epoch seconds the way the controller stores them.
"""
import datetime as dt
import threading

import pytest

from vksroom.controller.clock import ManualClock
from vksroom.drivers.errors import DeviceTimeout
from conftest import FlagDevice

COURT_TZ = dt.timezone(dt.timedelta(hours=5))


def at(day: int, hhmm: str) -> float:
    """Court time on March ``day`` 2025 as UTC epoch seconds."""
    h, m = map(int, hhmm.split(":"))
    return dt.datetime(2025, 3, day, h, m, tzinfo=COURT_TZ).timestamp()


def iso(day: int, hhmm: str) -> str:
    return dt.datetime.fromtimestamp(at(day, hhmm), dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def clock():
    return ManualClock(at(9, "08:00"))


class StandInCodec(FlagDevice):
    """A codec stand-in with the call interface: far sides answer when listed in ``answering``."""

    kind = "codec"

    def __init__(self, cfg, data_dir=None, **kw):
        super().__init__(cfg, data_dir, **kw)
        self.answering: set[str] = set()
        self.state = "idle"
        self.dialled: list[str] = []
        self.hangups = 0
        self.lock = threading.Lock()

    def dial(self, number):
        self.connect()
        with self.lock:
            self.dialled.append(number)
            self.state = "connected" if number in self.answering else "connecting"

    def hangup(self):
        with self.lock:
            self.hangups += 1
            self.state = "idle"

    def call_state(self):
        self.connect()
        return self.state


class RelayedCamera(FlagDevice):
    """A camera that hangs until its power relay has been cycled (the relay pin went high)."""

    kind = "camera"

    def __init__(self, cfg, data_dir=None, pin=None, **kw):
        super().__init__(cfg, data_dir, **kw)
        self.pin = pin            # a gpiozero MockPin, set by the test
        self.hung_at_state = None

    def hang_until_power_cycle(self):
        self.hung_at_state = len(self.pin.states) if self.pin is not None else None
        self.up.clear()

    def connect(self):
        if not self.up.is_set() and self.hung_at_state is not None:
            history = [s.state for s in self.pin.states[self.hung_at_state:]]
            if True in history and history[-1] is False:   # power was cut and is back
                self.up.set()
        super().connect()
