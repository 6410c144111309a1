"""The in-hearing watch on a real MJPEG stream: a picture that goes black and stays black
raises an alarm once it has lasted; the picture's return clears it."""
import threading

import pytest

from vksroom.controller import events as ev
from vksroom.controller.clock import ManualClock
from vksroom.controller.config import parse
from vksroom.controller.assemble import build_room
from vksroom.hil.video_stream import VideoStreamServer
from support.roomkit import FlagDevice

pytestmark = pytest.mark.timeout(60)


def test_a_lasting_black_picture_raises_an_alarm_and_its_return_clears_it(tmp_path):
    with VideoStreamServer() as stream:
        cfg = parse({"room": {"court_id": "ast-01", "courtroom": "3", "data_dir": str(tmp_path)},
                     "devices": {"cam1": {"type": "camera", "url": "visca-ip://127.0.0.1", "video": stream.url}},
                     "selftest": {"poll_interval_s": 0.2}, "lifecycle": {"degrade_after_s": {"video": 20}}})
        clock = ManualClock(1_750_000_000.0)
        room = build_room(cfg, {"cam1": FlagDevice(cfg.devices["cam1"])}, clock=clock).start()
        alarms, cleared = [], threading.Event()
        raised = threading.Event()

        def on_event(e):
            if e.kind == ev.ALARM_RAISED:
                alarms.append(e.data["alarm"])
                raised.set()
            elif e.kind == ev.ALARM_CLEARED:
                cleared.set()

        room.events.subscribe(on_event)
        seen, black_seen, ok_seen = [], threading.Event(), threading.Event()
        report = room.lifecycle.report

        def spy(results):    # the real report, with a note of what the watch sent
            seen.extend(results)
            for r in results:
                if r.check == "video.black":
                    (ok_seen if r.ok else black_seen).set()
            report(results)

        room.watch.report = spy
        try:
            room.watch.start()
            assert ok_seen.wait(15), "no verdict on the live picture"
            assert not black_seen.is_set()   # a live courtroom is not black

            stream.set_fault("black")
            assert black_seen.wait(10)
            assert not raised.is_set()        # not yet: it has not lasted
            clock.advance(25)                 # the picture stays black past the 20 s limit
            assert raised.wait(10)
            assert [a["key"] for a in alarms] == ["watch:cam1:video.black"]   # the cause, not its echoes

            stream.set_fault(None)
            assert cleared.wait(10)
        finally:
            room.stop()
        assert not room.watch.running
