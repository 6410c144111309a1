"""The DSP under the room's coordinator, over a real pty: while idle it asks the DSP almost
nothing, yet a mute pressed on the DSP reaches the room within 2 s, a hung or unplugged DSP
is lost within seconds, and it comes back by itself."""
from __future__ import annotations

import threading
import time

import pytest

from vksroom.controller.config import DeviceConfig
from vksroom.controller.coordinator import Coordinator
from vksroom.controller.devices import adapter_for
from vksroom.hil.audio_sim import TesiraSimulator

pytestmark = pytest.mark.timeout(40)

HUNG_LOST_S = 6.0      # quiet for a meter period (2 s) and a second, then a request's 1.5 s, at 1 s polls
UNPLUGGED_LOST_S = 3.0
BACK_S = 5.0


class Room:
    """What the room thread is told by the coordinator, with a wait on it."""

    def __init__(self):
        self.cond = threading.Condition()
        self.available: bool | None = None
        self.values: dict = {}

    def changed(self, dev_id, available, detail, values, live) -> None:
        with self.cond:
            self.available, self.values = available, values
            self.cond.notify_all()

    def wait(self, predicate, seconds: float) -> float:
        """Seconds until ``predicate(self)`` held; fails the test when it does not within ``seconds``."""
        t0 = time.monotonic()
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self), seconds), (self.available, self.values)
        return time.monotonic() - t0


@pytest.fixture
def dsp_room(closing, request):
    """A Tesira and its coordinator polling every second (or every ``request.param`` seconds)."""
    sim = closing(TesiraSimulator(channels=2, signals={1: "speech", 2: "tone"}, seed=5).start())
    adapter = adapter_for(DeviceConfig(id="dsp", type="dsp", url=sim.url, model="tesira",
                                       options={"channels": {"judge": {"index": 1}, "clerk": {"index": 2}}}))
    room = Room()
    coord = Coordinator(adapter, room.changed, poll_interval=getattr(request, "param", 1.0))
    coord.start()
    yield sim, room
    coord.stop()


def _ok(room) -> bool:
    return room.available is True


@pytest.mark.parametrize("dsp_room", [60.0], indirect=True)     # no poll would come in time: the push must
def test_a_mute_on_the_dsp_reaches_the_room_in_2s_with_no_fast_poll(dsp_room):
    sim, room = dsp_room
    room.wait(_ok, 5)
    asked = len(sim.received)
    sim.mutes[2] = True                         # pressed on the DSP itself
    room.wait(lambda r: r.values.get("mutes", {}).get("clerk") is True, 2.0)
    sim.mutes[2] = False
    room.wait(lambda r: r.values.get("mutes", {}).get("clerk") is False, 2.0)
    assert len(sim.received) == asked           # nothing was asked of the DSP meanwhile


def test_a_hung_or_unplugged_dsp_is_lost_in_seconds_and_back_by_itself(dsp_room):
    sim, room = dsp_room
    room.wait(_ok, 5)
    sim.silent = True                           # hung: the port stays, nothing comes from it
    hung = room.wait(lambda r: r.available is False, HUNG_LOST_S)
    sim.silent = False
    mended = room.wait(_ok, BACK_S)
    sim.unplug()
    unplugged = room.wait(lambda r: r.available is False, UNPLUGGED_LOST_S)
    sim.replug()
    replugged = room.wait(_ok, BACK_S)
    print(f"hung: lost in {hung:.1f} s, back in {mended:.1f} s; unplugged: lost in {unplugged:.1f} s, "
          f"back in {replugged:.1f} s")
    sim.mutes[1] = True                         # the new session's subscriptions work
    room.wait(lambda r: r.values.get("mutes", {}).get("judge") is True, 2.0)
