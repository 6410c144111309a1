"""What the two facts outside the pixels find (docs/frame-quality.md, "Frozen: ask the camera").

1. The VISCA picture freeze, read with the position: a camera switched to freeze by another
   client (a remote) at a random moment, over IP and serial; how many polls until the adapter
   saw it and switched it off, and whether it then read "off". Live polls: false faults.
2. The self-test's "picture follows the camera": two (and six) presets landed apart, a frame
   at each (the MJPEG simulator), live / the stream stuck / the camera in freeze.
3. The same rule through H.264 (libx264, a keyframe every 4 frames): a frozen source's frames
   at two presets grabbed in different groups and within one group, strict and allowing for a
   held picture coded again; live views 3.4 degrees or a tenth of zoom apart.

    .venv/bin/python benchmarks/picture_follows.py [--runs 30]
"""
from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from pathlib import Path



def freeze_polls(runs: int) -> None:
    from vksroom.controller.config import DeviceConfig
    from vksroom.controller.devices import adapter_for
    from vksroom.drivers.visca import open_camera
    from vksroom.hil.visca_camera import CameraSimulator

    fast = {"boot_s": 0.0, "pan_speed": 50000.0, "tilt_speed": 50000.0, "zoom_speed": 200000.0}
    for transport in ("visca-ip", "visca-serial"):
        seen, cleared, polls, false = 0, 0, [], 0
        rng = random.Random(1)
        for _ in range(runs):
            sim = CameraSimulator(transport=transport, **fast).start()
            adapter = adapter_for(DeviceConfig(id="cam", type="camera", url=sim.url, label="cam", options={}),
                                  Path(tempfile.mkdtemp()))
            adapter.connect()
            adapter.busy = True
            try:
                for _ in range(rng.randrange(1, 4)):      # live polls first
                    false += any(not c.ok for c in adapter.live_checks(adapter.poll()))
                if transport == "visca-serial":
                    sim.camera.frozen = True              # one controller on a serial line: its IR remote did it
                else:
                    remote = open_camera(sim.url, shared_socket=False)
                    remote.freeze(True)
                    remote.close()
                for n in range(1, 6):
                    values = adapter.poll()
                    if values.get("freeze") == "on":
                        seen += 1
                        polls.append(n)
                        if adapter.poll().get("freeze") == "off" and not sim.frozen:
                            cleared += 1
                        break
            finally:
                adapter.close()
                sim.close()
        print(f"freeze over {transport}: seen {seen}/{runs}, switched off and read off {cleared}/{runs}, "
              f"polls to see it {min(polls, default=0)}..{max(polls, default=0)}, false faults on live polls {false}")


def self_tests(runs: int) -> None:
    from vksroom.controller.config import DeviceConfig
    from vksroom.controller.devices import CheckContext, adapter_for
    from vksroom.drivers.visca import open_camera
    from vksroom.hil.video_stream import VideoStreamServer
    from vksroom.hil.visca_camera import CameraSimulator

    fast = {"boot_s": 0.0, "pan_speed": 50000.0, "tilt_speed": 50000.0, "zoom_speed": 200000.0}
    rng = random.Random(2)
    roles6 = {"judge": 1, "prosecutor": 2, "defence": 3, "defendant": 4, "witness": 5, "wide": 6}
    for presets in (2, 6):
        tally = {"live": [0, 0], "stuck": [0, 0], "freeze": [0, 0]}   # kind -> [frozen found, told]
        for k in range(runs):
            sim = CameraSimulator(transport="visca-ip", **fast).start()
            video = VideoStreamServer(view_fn=lambda: (sim.pan, sim.tilt, sim.zoom), frozen_fn=lambda: sim.frozen,
                                      size=(640, 360), fps=10, seed=k).start()
            data = Path(tempfile.mkdtemp())
            roles = dict(list(roles6.items())[:presets])
            adapter = adapter_for(DeviceConfig(id="cam", type="camera", url=sim.url, label="cam",
                                               options={"presets": roles, "video": video.url}), data)
            adapter.connect()
            try:
                for role in roles:      # presets anywhere in the simulated room's panorama
                    adapter.cam.move_to(rng.uniform(-0.35, 0.35), rng.uniform(-0.1, 0.1), rng.uniform(0.0, 0.5))
                    adapter.store_role(role)
                for kind in tally:
                    video.set_fault("frozen" if kind == "stuck" else None)
                    if kind == "freeze":
                        remote = open_camera(sim.url, shared_socket=False)
                        remote.freeze(True)
                        remote.close()
                    ctx = CheckContext(deadline=time.monotonic() + 60, data_dir=data, cancelled=threading.Event())
                    follows = [r for r in adapter.checks(ctx) if r.check == "video.follows"]
                    if follows:
                        tally[kind][1] += 1
                        tally[kind][0] += not follows[0].ok
            finally:
                adapter.close()
                video.stop()
                sim.close()
        print(f"self-test, {presets} presets apart, {runs} runs: " + ", ".join(
            f"{kind} frozen {found}/{told} told" for kind, (found, told) in tally.items()))


def through_h264(runs: int) -> None:
    import numpy as np

    import cv2

    from vksroom.drivers.video.quality import GRID, features, same_picture
    from vksroom.hil.faults import h264, sensor_noise

    def block(a, b) -> float:      # the largest block change, the rule's own measure
        d = cv2.absdiff(features(a).grey, features(b).grey)
        return float(cv2.resize(d, GRID, interpolation=cv2.INTER_AREA).max())
    from vksroom.hil.scene import JUDGE_VIEW, OVERVIEW, PAN_UNITS_PER_DEG, Courtroom

    room = Courtroom()
    rng = np.random.default_rng(3)
    size = (640, 360)
    for rate in (("crf", 23), ("crf", 28), ("crf", 33), ("qp", 30)):
        qp = rate[1] if rate[0] == "qp" else None
        tally = {"strict keys": 0, "strict within": 0, "recoded keys": 0, "live apart": 0}
        frozen_blocks, live_blocks = [], []
        for k in range(runs):
            # views within the simulated room's panorama (pan -100..100 degrees)
            judge = (JUDGE_VIEW[0] + int(((k * 7) % 100 - 50) * PAN_UNITS_PER_DEG), JUDGE_VIEW[1], JUDGE_VIEW[2])
            wide = (int(((k * 5) % 80 - 40) * PAN_UNITS_PER_DEG), OVERVIEW[1], 0)
            view = judge if k % 2 else wide
            held = sensor_noise(room.view(*view, size, 0.0), 1.5, rng)     # what the camera holds
            coded = h264([held] * 8, rate[1], qp=qp)
            # the self-test grabs the second frame of a fresh connection at each preset: P-frames
            # of two groups (keyframes coded apart); one connection would stay in one group
            tally["strict keys"] += same_picture(coded[1][0], coded[5][0])
            tally["strict within"] += same_picture(coded[1][0], coded[2][0])
            tally["recoded keys"] += same_picture(coded[1][0], coded[5][0], recoded=True)
            frozen_blocks.append(block(coded[1][0], coded[5][0]))
            # live: the view 3.4 degrees aside (0.02 of an EVI-D70's pan), or zoomed by a tenth
            other = (view[0] + int(3.4 * PAN_UNITS_PER_DEG), view[1], view[2]) if k % 3 else \
                (view[0], view[1], view[2] + 1638)
            a, b = ([sensor_noise(room.view(*v, size, t * 0.5), 1.5, rng) for t in range(3)] for v in (view, other))
            ca, cb = h264(a, rate[1], qp=qp)[1][0], h264(b, rate[1], qp=qp)[1][0]
            tally["live apart"] += same_picture(ca, cb, recoded=True)
            live_blocks.append(block(ca, cb))
        print(f"x264 {rate[0]} {rate[1]}, {runs} views: frozen found, strict rule keyframe to keyframe "
              f"{tally['strict keys']}, within one group {tally['strict within']}, allowing for recoding "
              f"{tally['recoded keys']}; live presets apart called the same {tally['live apart']}; largest block "
              f"change frozen {max(frozen_blocks):g}, smallest live {min(live_blocks):g}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    a = ap.parse_args()
    freeze_polls(a.runs)
    self_tests(max(5, a.runs // 3))
    through_h264(a.runs)
