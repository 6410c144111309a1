"""The far side's picture and sound during a hearing: the codec's far-end output read from a
real MJPEG stream (the simulated capture) and judged black / frozen / in blocks, the DSP
channel carrying the codec's return audio judged silent; each, once it lasts, recommends the
break naming the far side, and a picture or sound that comes back clears it."""
from __future__ import annotations

import time

import pytest

from vksroom.controller import events as ev
from vksroom.controller.quality import DEFAULTS
from vksroom.drivers.video.blocky import blockiness
from vksroom.drivers.video.quality import THRESHOLDS
from vksroom.hil import faults
from vksroom.hil.audio_sim import TesiraSimulator
from vksroom.hil.codec_sim import CiscoCodecSimulator
from vksroom.hil.video_stream import VideoStreamServer
from support.qualitykit import LIMITS, QualityRoom

pytestmark = pytest.mark.timeout(60)

SLACK_S = 1.5      # frames judged at 2/s, the audio sampled at 1/s, on a shared machine


@pytest.fixture
def far_room(tmp_path):
    stream = VideoStreamServer(size=(640, 360), fps=10.0).start()
    dsp = TesiraSimulator(channels=4, signals={1: "speech", 4: "speech"}, seed=3).start()
    sim = CiscoCodecSimulator(username="admin", password="secret", answer_after_s=0.1, far_video=stream,
                              far_audio=(dsp, 4)).start()
    devices = {"mics": {"type": "dsp", "model": "tesira", "url": dsp.url, "window_s": 0.5,
                        "channels": {"judge": {"index": 1}, "codec_return": {"index": 4}}}}
    # the codec's own figures judged slowly, so that what is measured here is the far side's
    room = QualityRoom(tmp_path, sim, "cisco", limits={"sound_s": 300, "fps_s": 300, "rate_s": 300},
                       devices=devices, codec_options={"far_video": stream.url, "far_audio": "mics.codec_return"})
    yield room, stream, dsp
    room.stop()
    sim.stop()
    dsp.stop()
    stream.stop()


# A picture is "frozen" once it has not changed for the picture check's own 2 s: that is
# where its degradation starts, and the duration counts from there.
SEEN_AFTER_S = {"frozen": THRESHOLDS["frozen"][0]}


@pytest.mark.parametrize("kind, check, lasts", [
    ("black", "far.picture.black", "picture_s"),
    ("frozen", "far.picture.frozen", "picture_s"),
    ("blocky", "far.picture.blocky", "picture_s"),
    ("sound", "far.sound", "far_silence_s"),
])
def test_the_far_side_degrading_recommends_a_break(far_room, kind, check, lasts):
    room, stream, dsp = far_room
    hid = room.hearing()
    assert room.wait_polls(2)
    assert room.of(ev.BREAK_RECOMMENDED) == []             # a live far side is fine
    assert room.room.adapter("mics").device.stream_ms == 100    # the hearing's meters are live, not idle's
    onset = time.monotonic()
    room.sim.degrade(kind)
    assert room.wait(lambda: room.of(ev.BREAK_RECOMMENDED), LIMITS[lasts] + SLACK_S + 5)
    took = room.at(ev.BREAK_RECOMMENDED)[0] - onset
    lasts_s = LIMITS[lasts] + SEEN_AFTER_S.get(kind, 0.0)
    assert lasts_s <= took <= lasts_s + SLACK_S + 1.0, took
    [brk] = room.of(ev.BREAK_RECOMMENDED)
    assert (brk["hearing_id"], brk["device"], brk["check"]) == (hid, "codec", check)
    room.sim.restore()
    assert room.wait(lambda: any(a["alarm"]["key"] == f"watch:codec:{check}" for a in room.of(ev.ALARM_CLEARED)),
                     10)


def test_blockiness_tells_a_picture_in_blocks_from_a_clean_one():
    with VideoStreamServer(size=(640, 360)) as stream:
        clean = faults.jpeg(stream.render(1.0), 85)
        stream.set_fault("blocky", 2)
        blocky = faults.jpeg(stream.render(1.0), 85)
    limit = DEFAULTS["blockiness"]
    assert blockiness(clean) < limit - 0.2 and blockiness(blocky) > limit + 0.1
    for name in ("astronaut", "coffee", "chelsea"):        # photographs, not only the synthetic courtroom
        photo = faults.load_photo(name)
        assert blockiness(faults.jpeg(photo, 80)) < limit - 0.2 and blockiness(faults.jpeg(photo, 6)) > limit
