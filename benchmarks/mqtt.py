"""MQTT benchmark: readiness latency through the link, and a 2,000-room fleet on one Mosquitto.

    .venv/bin/python benchmarks/mqtt.py [--changes 300] [--rooms 2000] [--duration 30] [--interval 2]

1. Latency from a readiness change in the controller to its arrival at a subscriber
   (p50, p99; goal p99 <= 1 s), through MqttLink and its outbox (fsync'ed SQLite write),
   against a baseline of a bare paho publish on the same broker in the same process.
2. ``fleet simulate``: N rooms on one Mosquitto, each changing state every ~interval s,
   watched as the scheduler would: messages per second sustained and lost state changes
   (acknowledged readiness the watcher never saw; goal 0).
3. Reconnect storm (issue 17): N simulated rooms on node A of a two-node RabbitMQ cluster
   (started here, tests/support/rabbit.py) with both nodes in their broker list, the watcher
   on node B; node A is killed; the time until the watcher has a fresh readiness from every
   room again, and acknowledged state changes lost (goal 0).

    .venv/bin/python benchmarks/mqtt.py --parts storm --rooms 2000
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

from vksroom.controller.config import MqttConfig, RoomConfig
from vksroom.controller.events import Event, EventBus
from vksroom.controller.model import CheckResult, DeviceState, Readiness, RoomState
from vksroom.hil.broker import Broker
from vksroom.mqtt.fleet import Fleet, Watcher
from vksroom.mqtt.link import MqttLink


class Room:
    """The controller's interface, enough to drive the link."""

    def __init__(self):
        self.events = EventBus()
        cam = DeviceState.from_checks("cam", "camera", True, [CheckResult("cam", "link", True)])
        self._r = Readiness("bench", "101", RoomState.READY, (cam,))

    def readiness(self):
        return self._r

    def change(self, i):
        self._r = self._r.replace(state=RoomState.READY if i % 2 else RoomState.DEGRADED, measured_at=time.time(),
                                  valid_until=time.time() + 600, reasons=(f"change {i}",))
        self.events.publish(Event("readiness", self._r.to_dict()))

    def command(self, name, args):
        raise ValueError("not in the benchmark")


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def subscriber(port, topic, on_msg):
    ready = threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.on_connect = lambda cl, u, f, rc, p: cl.subscribe(topic, qos=1)
    c.on_subscribe = lambda *a: ready.set()
    c.on_message = on_msg
    c.connect("127.0.0.1", port)
    c.loop_start()
    assert ready.wait(10)
    return c


def bench_baseline(broker, n):
    arrived = threading.Event()
    sub = subscriber(broker.port, "base/x", lambda c, u, m: arrived.set())
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    lat = []
    for i in range(n):
        arrived.clear()
        t0 = time.perf_counter()
        pub.publish("base/x", b'{"state":"ready"}', qos=1, retain=True)
        assert arrived.wait(10)
        lat.append(time.perf_counter() - t0)
    for c in (pub, sub):
        c.loop_stop()
        c.disconnect()
    return lat


def bench_link(broker, n):
    room = Room()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = RoomConfig(court_id="bench", court_name={}, courtroom="101", data_dir=tmp,
                         mqtt=MqttConfig(url=broker.url))
        link = MqttLink(room, cfg).start()
        assert link.ready.wait(10) and link.flush(10)
        got = {}
        cond = threading.Condition()

        def on_msg(c, u, m):
            with cond:
                got[m.payload.split(b'"reasons":["change ', 1)[-1].split(b'"', 1)[0]] = time.perf_counter()
                cond.notify_all()

        sub = subscriber(broker.port, "vks/bench/101/readiness", on_msg)
        lat = []
        for i in range(n):
            t0 = time.perf_counter()
            room.change(i)
            key = str(i).encode()
            with cond:
                assert cond.wait_for(lambda: key in got, 10), f"change {i} never arrived"
                lat.append(got[key] - t0)
        sub.loop_stop()
        sub.disconnect()
        link.stop()
    return lat


def bench_fleet(broker, rooms, duration, interval):
    watcher = Watcher(broker.url).start()
    assert watcher.subscribed.wait(10)
    fleet = Fleet(broker.url, rooms, interval=interval, threads=2).start()
    t0 = time.monotonic()
    watcher.wait_for(lambda w: sum(r["lifecycle"] == "ready" for r in w.rooms.values()) == rooms, 120)
    connect_s = time.monotonic() - t0
    start_msgs, start_sent, start = watcher.received, fleet.messages, time.monotonic()
    threading.Event().wait(duration)
    msgs, elapsed = watcher.received - start_msgs, time.monotonic() - start
    offered = (fleet.messages - start_sent) / elapsed
    fleet.stop()
    # let the last acknowledged messages arrive, then count acknowledged changes never seen
    def missing(w):
        return sum(len(set(r.sent) - set(w.readiness_seqs.get((r.topics.court_id, r.topics.courtroom), [])))
                   for r in fleet.rooms)
    # The watcher is one Python client sharing this process (and its GIL) with 2,000 rooms:
    # it falls behind while they publish and catches up from the broker's queue after.
    # Wait until it has drained (nothing new for 2 s), then count once: counting on every
    # message would itself be what slows it down.
    drain_start, last = time.monotonic(), -1
    while time.monotonic() - drain_start < 180 and watcher.received != last:
        last = watcher.received
        threading.Event().wait(2.0)
    print(f"  watcher drained the broker's queue {time.monotonic() - drain_start - 2.0:.1f} s after the rooms stopped")
    lost = missing(watcher)
    changes = sum(len(r.sent) for r in fleet.rooms)
    watcher.stop()
    return connect_s, msgs / elapsed, offered, changes, lost


def bench_storm(rooms, interval):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "tests"))
    from support.rabbit import RabbitCluster

    with RabbitCluster(2) as cluster:
        a, b = cluster.nodes
        watcher = Watcher(b.url, ask_status=False).start()
        assert watcher.subscribed.wait(10)
        fleet = Fleet([a.url, b.url], rooms, interval=interval, threads=2).start()
        t0 = time.monotonic()
        if not watcher.wait_for(lambda w: sum(r["lifecycle"] == "ready" for r in w.rooms.values()) == rooms, 120):
            raise SystemExit(f"only {sum(r['lifecycle'] == 'ready' for r in watcher.snapshot().values())} of {rooms} "
                             f"rooms came up on node A ({fleet.connected} connected)")
        up_s = time.monotonic() - t0
        threading.Event().wait(3)
        keys = [(r.topics.court_id, r.topics.courtroom) for r in fleet.rooms]
        with watcher._lock:
            before = {k: max(watcher.readiness_seqs.get(k, [0])) for k in keys}
        a.kill()
        killed = time.monotonic()

        def everyone_back(w):
            return all(max(w.readiness_seqs.get(k, [0])) > before[k] and r.turn == 1
                       for k, r in zip(keys, fleet.rooms))
        back = watcher.wait_for(everyone_back, 120)
        back_s = time.monotonic() - killed
        threading.Event().wait(3)
        fleet.stop()
        drain_start, last = time.monotonic(), -1
        while time.monotonic() - drain_start < 120 and watcher.received != last:
            last = watcher.received
            threading.Event().wait(2.0)
        lost = sum(len(set(r.sent) - set(watcher.readiness_seqs.get(k, []))) for k, r in zip(keys, fleet.rooms))
        changes = sum(len(r.sent) for r in fleet.rooms)
        on_b = sum(r.turn == 1 for r in fleet.rooms)
        watcher.stop()
    return up_s, back, back_s, on_b, changes, lost


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--changes", type=int, default=300)
    p.add_argument("--rooms", type=int, default=2000)
    p.add_argument("--duration", type=float, default=30)
    p.add_argument("--interval", type=float, default=2.0)
    p.add_argument("--parts", default="latency,fleet,storm", help="which parts to run (comma-separated)")
    a = p.parse_args()
    parts = set(a.parts.split(","))
    if "storm" in parts:
        up_s, back, back_s, on_b, changes, lost = bench_storm(a.rooms, a.interval)
        print(f"reconnect storm: {a.rooms} simulated rooms on node A of a two-node RabbitMQ cluster, node A killed:")
        print(f"  all up on node A in {up_s:.1f} s")
        print(f"  {'all' if back else 'NOT all'} back (a fresh readiness at the watcher on node B) "
              f"{back_s:.1f} s after the kill; {on_b} rooms on node B")
        print(f"  {changes:,} acknowledged state changes, {lost} lost (goal 0)")
    if "latency" in parts:
        latency(a)
    if "fleet" in parts:
        fleet(a)


def latency(a):
    with Broker("mosquitto") as broker:
        base = bench_baseline(broker, a.changes)
        link = bench_link(broker, a.changes)
        b50, b99, l50, l99 = pct(base, 50), pct(base, 99), pct(link, 50), pct(link, 99)
        print(f"readiness latency, {a.changes} changes (controller event -> subscriber):")
        print(f"  bare paho publish : p50 {b50 * 1000:7.2f} ms   p99 {b99 * 1000:7.2f} ms   (baseline)")
        print(f"  MqttLink + outbox : p50 {l50 * 1000:7.2f} ms   p99 {l99 * 1000:7.2f} ms   "
              f"(x{l50 / b50:.1f} / x{l99 / b99:.1f} baseline; goal p99 <= 1000 ms: "
              f"{'met' if l99 <= 1 else 'MISSED'})")


def fleet(a):
    with Broker("mosquitto") as broker:
        connect_s, rate, offered, changes, lost = bench_fleet(broker, a.rooms, a.duration, a.interval)
        print(f"fleet: {a.rooms} simulated rooms on one Mosquitto, a change every ~{a.interval:g} s per room:")
        print(f"  all connected and ready in {connect_s:.1f} s")
        print(f"  {rate:,.0f} messages/s sustained at the watcher over {a.duration:g} s "
              f"(the rooms published {offered:,.0f}/s: x{rate / offered:.2f} of it)")
        print(f"  {changes:,} acknowledged state changes, {lost} lost (goal 0)")


if __name__ == "__main__":
    main()
