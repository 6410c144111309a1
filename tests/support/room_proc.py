"""A room process for the crash tests: the stand-in controller with a real MqttLink.

    python room_proc.py URL DATA_DIR [--events N] [--keepalive S] [--room R] [--heartbeat S] [--also URL ...]

Prints ``ready`` once the link is up, then emits N events (kind ``fault``, data {"n": i}),
printing ``emitted <id>`` after each emit returns, then ``done``; then waits to be killed.
"""
import argparse
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))   # tests/: the helpers package `support`

from support.room_stub import RoomStub  # noqa: E402

from vksroom.controller.config import MqttConfig, RoomConfig  # noqa: E402
from vksroom.mqtt.link import MqttLink  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("data_dir")
    p.add_argument("--events", type=int, default=0)
    p.add_argument("--keepalive", type=int, default=2)
    p.add_argument("--room", default="101")
    p.add_argument("--heartbeat", type=int, default=30)
    p.add_argument("--also", action="append", default=[], help="more brokers, tried in turn after URL")
    p.add_argument("--no-wait", action="store_true", help="emit without waiting for the connection")
    a = p.parse_args()
    cfg = RoomConfig(court_id="almaty-01", court_name={"kk": "a", "ru": "a", "en": "a"}, courtroom=a.room,
                     data_dir=a.data_dir, mqtt=MqttConfig(url=a.url, keepalive=a.keepalive, heartbeat_s=a.heartbeat,
                                                     urls=(a.url, *a.also) if a.also else ()))
    room = RoomStub(courtroom=a.room)
    link = MqttLink(room, cfg, backoff=(0.1, 0.5)).start()
    if not a.no_wait:
        link.ready.wait(20)
    print("ready", flush=True)
    for i in range(a.events):
        ev = room.emit("fault", n=i, device="cam_judge", reason="test")
        print("emitted", ev.id, flush=True)
    print("done", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
