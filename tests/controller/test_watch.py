"""The in-hearing watch on a real MJPEG stream: a picture that goes black and stays black
raises an alarm once it has lasted; the picture's return clears it. With a simulated VISCA
camera driving the stream's view: each picture judged against the references of the preset
the camera is at, stored or learned, and the alarm saying which."""
import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest

from vksroom.controller import events as ev
from vksroom.controller import texts as tx
from vksroom.controller.clock import ManualClock
from vksroom.controller.config import parse
from vksroom.controller.assemble import build_room
from vksroom.hil.video_stream import VideoStreamServer
from support.roomkit import FlagDevice
from support.visca_sims import make_sim  # noqa: F401  (fixture)

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
            # a camera without presets is judged without a reference, and its alarm says no more of it
            assert alarms[0]["params"]["reference"] == "none" and "off_preset" not in alarms[0]["params"]
            assert tx.say_where(alarms[0]["code"], alarms[0]["params"], "ru").endswith("чёрный экран или нет сигнала")

            stream.set_fault(None)
            assert cleared.wait(10)
        finally:
            room.stop()
        assert not room.watch.running


class Verdicts:
    """The watch's report, noted on its way to the lifecycle; waits for a result to come."""

    def __init__(self, report):
        self.report, self.results, self.cond = report, [], threading.Condition()

    def __call__(self, results):
        with self.cond:
            self.results.extend(results)
            self.cond.notify_all()
        self.report(results)

    def next(self, check, n=1, timeout=10, **params):
        """The next ``n`` results of ``check`` whose params hold ``params`` (from now on)."""
        with self.cond:
            start = len(self.results)

            def found():
                return [r for r in self.results[start:] if r.check == check
                        and all(r.params.get(k) == v for k, v in params.items())]
            assert self.cond.wait_for(lambda: len(found()) >= n, timeout), (check, params, self.results[-3:])
            return found()[:n]


def test_pictures_are_judged_against_the_references_of_the_preset_the_camera_is_at(make_sim, tmp_path, monkeypatch):
    """A stored reference of the judge's preset finds a covered lens the defaults miss; recalling
    the witness's preset (none stored) switches without a false alarm, learns its picture after a
    good while and then finds the lens covered there too; a nudge leaves the presets. The alarms
    say what the picture was compared with."""
    from vksroom.controller import watch
    from vksroom.drivers.video.references import ReferenceStore
    from vksroom.hil.scene import JUDGE_VIEW, PLAINTIFF_VIEW, Courtroom

    monkeypatch.setattr(watch, "VIDEO_CALM_HZ", 4.0)     # verdicts sooner; what is judged is the same
    monkeypatch.setattr(watch, "VIDEO_RATE_HZ", 4.0)
    sim = make_sim("visca-ip")
    sim.camera.presets[1], sim.camera.presets[2] = JUDGE_VIEW, PLAINTIFF_VIEW
    scene = Courtroom()
    ReferenceStore(tmp_path).add("cam1", "judge", scene.view(*JUDGE_VIEW, size=(640, 360)), "full")
    with VideoStreamServer(scene, view_fn=lambda: (sim.pan, sim.tilt, sim.zoom), size=(640, 360)) as stream:
        cfg = parse({"room": {"court_id": "ast-01", "courtroom": "3", "data_dir": str(tmp_path)},
                     "devices": {"cam1": {"type": "camera", "url": sim.url, "video": stream.url, "label": "Камера судьи",
                                          "presets": {"judge": 1, "witness": 2}}},
                     "selftest": {"poll_interval_s": 0.2}, "lifecycle": {"degrade_after_s": {"video": 20}}})
        clock = ManualClock(1_750_000_000.0)
        room = build_room(cfg, clock=clock).start()
        raised, cleared = [], threading.Event()
        got = threading.Condition()

        def on_event(e):
            with got:
                if e.kind == ev.ALARM_RAISED:
                    raised.append(e.data["alarm"])
                elif e.kind == ev.ALARM_CLEARED:
                    cleared.set()
                got.notify_all()

        def alarm(key):
            with got:
                assert got.wait_for(lambda: any(a["key"] == key for a in raised), 10), raised
            a = next(a for a in raised if a["key"] == key)
            return tx.say_where(a["code"], a["params"], "ru")

        room.events.subscribe(on_event)
        seen = room.watch.report = Verdicts(room.lifecycle.report)
        judge, witness = tx.role_label("judge"), tx.role_label("witness")
        try:
            room.run_on("cam1", lambda a: a.recall_role("judge"))
            room.watch.start()
            [r] = seen.next("video.obstruction", reference="stored", role=judge)
            assert r.ok and r.params["with_reference"] is True
            stream.set_fault("obstruction", 3)             # a hand over the lens: the defaults see no fault
            seen.next("video.obstruction", reference="stored")
            assert all(not r.ok for r in seen.next("video.obstruction", n=2))
            clock.advance(25)
            assert alarm("watch:cam1:video.obstruction") == \
                "Камера судьи: объектив закрыт (позиция «Судья»); сравнено с сохранённым эталоном"
            stream.set_fault(None)
            assert cleared.wait(10)

            room.run_on("cam1", lambda a: a.recall_role("witness"))     # nothing stored for it
            assert all(r.ok for r in seen.next("video.drift", n=3, reference="none", role=witness))
            stream.set_fault("obstruction", 2)             # not seen without a reference...
            assert all(r.ok for r in seen.next("video.obstruction", n=3, reference="none", role=witness))
            stream.set_fault(None)
            seen.next("video.obstruction", n=2, reference="none")
            clock.advance(25)                              # learning is off by default: still none...
            seen.next("video.obstruction", n=2, reference="none", role=witness)
            room.watch.stop()
            room.watch.learn_s = 20.0                      # ...switched on: at rest, every picture good: learned
            room.watch.start()
            seen.next("video.obstruction", n=2, reference="none", role=witness)
            clock.advance(25)
            [r] = seen.next("video.obstruction", reference="learned", role=witness)
            learned_at = dt.datetime.fromtimestamp(clock.now(), ZoneInfo(cfg.timezone)).strftime("%H:%M")
            assert r.ok and r.params["with_reference"] is True and r.params["learned_at"] == learned_at
            assert [a["key"] for a in raised] == ["watch:cam1:video.obstruction"]   # no false alarm on the way
            stream.set_fault("obstruction", 2)             # ...and found once learned
            assert all(not r.ok for r in seen.next("video.obstruction", n=3, reference="learned"))
            raised.clear()
            clock.advance(25)
            assert alarm("watch:cam1:video.obstruction") == ("Камера судьи: объектив закрыт (позиция «Свидетель»); "
                                                             f"сравнено с изображением, снятым во время заседания в {learned_at}")
            stream.set_fault(None)

            room.run_on("cam1", lambda a: a.nudge("left", 0.5))        # off the presets: judged without
            [r] = seen.next("video.obstruction", reference="none")
            assert "role" not in r.params and r.params["with_reference"] is False and r.params["off_preset"]
            assert tx.say_where("camera.video.obstruction", r.params, "ru").endswith(
                "камера сдвинута с позиции, оценено без эталона")
            assert ReferenceStore(tmp_path).paths("cam1", "witness") == []     # the learned one was never stored
        finally:
            room.stop()
