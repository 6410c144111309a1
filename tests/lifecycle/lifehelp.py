"""Helpers for the hearing lifecycle tests: a fast clock on a fixed court day and stand-in devices.

The court day is Monday 10 March 2025 in Astana (UTC+5). Times are written in court time
with :func:`at` and turned into UTC epoch seconds the way the controller stores them.
"""
import datetime as dt
import threading

import pytest

from vksroom.controller.clock import ManualClock
from roomkit import FlagDevice

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


PINS = {"red": 17, "green": 27, "blue": 22, "buzzer": 23, "button": 24, "relay_cam1": 5, "relay_codec": 6}
LIGHT = {(False, True, False): "ready", (True, True, False): "warning", (True, False, False): "fault",
         (False, False, True): "suspended", (False, False, False): "off"}


def room_config(tmp_path):
    from vksroom.controller.config import parse

    return parse({
        "room": {"court_id": "ast-smas", "courtroom": "12", "data_dir": str(tmp_path),
                 "court_name": {"kk": "Астана қаласының мамандандырылған ауданаралық әкімшілік соты",
                                "ru": "Специализированный межрайонный административный суд г. Астаны"}},
        "devices": {
            "cam1": {"type": "camera", "url": "visca-ip://127.0.0.1", "label": "Камера судьи",
                     "presets": {"judge": 1, "defendant": 4, "wide": 6}},
            "codec": {"type": "codec", "model": "cisco", "url": "/dev/null", "label": "Кодек"},
            "cam2": {"type": "camera", "url": "visca-ip://127.0.0.2", "required": False, "presets": {"wide": 1}},
        },
        "gpio": {"status_red": PINS["red"], "status_green": PINS["green"], "status_blue": PINS["blue"],
                 "buzzer": PINS["buzzer"], "button": PINS["button"],
                 "relays": {"cam1": PINS["relay_cam1"], "codec": PINS["relay_codec"]}},
        "selftest": {"poll_interval_s": 0.05, "check_timeout_s": 5},
    })


@pytest.fixture
def mock_factory():
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    before = Device.pin_factory
    Device.pin_factory = MockFactory()
    yield Device.pin_factory
    Device.pin_factory.reset()
    Device.pin_factory = before


class Room:
    """A started controller over stand-in devices, with everything it announced collected."""

    def __init__(self, tmp_path, clock, factory):
        from vksroom.controller.room import Controller

        self.cfg = room_config(tmp_path)
        self.factory = factory
        cam1 = RelayedCamera(self.cfg.devices["cam1"])
        self.devices = {"cam1": cam1, "codec": StandInCodec(self.cfg.devices["codec"]),
                        "cam2": FlagDevice(self.cfg.devices["cam2"])}
        self.events = []
        self.controller = Controller(self.cfg, self.devices, clock=clock)
        self.controller.events.subscribe(self.events.append)
        self.controller.start()
        cam1.pin = factory.pin(PINS["relay_cam1"])
        self.life = self.controller.lifecycle
        self.clock = clock

    def pin(self, name):
        return self.factory.pin(PINS[name]).state

    def light(self):
        return LIGHT[(self.pin("red"), self.pin("green"), self.pin("blue"))]

    def kinds(self, prefix=""):
        return [e.kind for e in self.events if e.kind.startswith(prefix) and e.kind != "readiness"]

    def of(self, kind):
        return [e.data for e in self.events if e.kind == kind]

    def wait(self, predicate, timeout=5.0):
        assert self.life.wait_for(predicate, timeout), "condition not reached in time"

    def wait_state(self, state, timeout=5.0):
        r = self.controller.wait_for(lambda r: r.state.value == state, timeout)
        assert r is not None, f"room never became {state}: {self.controller.readiness().state}"

    def stop(self):
        self.controller.stop()


@pytest.fixture
def life_room(tmp_path, clock, mock_factory):
    rooms = []

    def make():
        room = Room(tmp_path, clock, mock_factory)
        rooms.append(room)
        return room

    yield make
    for r in rooms:
        if r.controller._owner.is_alive():
            r.stop()
