"""Central-side tools: watch every room's readiness, or simulate a fleet of rooms.

    vks-room fleet watch --broker mqtt://broker:1883 [--prefix vks] [--once --wait 2]
    vks-room fleet simulate --rooms 200 --broker mqtt://127.0.0.1:1883 [--interval 5] [--duration 60]

``watch`` shows what the scheduler sees: one line per room with its lifecycle, readiness
state, age of the measurement, validity and the last event. ``simulate`` runs N rooms that
speak the contract (each its own connection with its own Last Will, retained lifecycle and
readiness, events, replies to commands) for load tests; a few selector threads drive all
the connections, so thousands of rooms fit in one process. Both come back by themselves when
their broker does (a restart, the network): a simulated room after the room link's backoff,
the watcher by paho's loop within 2 s; each says so in the log once when it loses the broker
and once when it is back, not per attempt.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import selectors
import sys
import threading
import time
import urllib.parse

import paho.mqtt.client as mqtt

from . import contract
from .brokers import Backoff
from .contract import Topics

log = logging.getLogger(__name__)


def _endpoint(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        from vksroom.drivers.errors import UsageError

        raise UsageError(f"--broker {url!r}: use mqtt://HOST:PORT")
    return parts.hostname, parts.port or (8883 if parts.scheme == "mqtts" else 1883)


# --- watch ---------------------------------------------------------------------------------

class Watcher:
    """Follows every room under ``prefix``: the scheduler's view. Thread-safe snapshot()."""

    def __init__(self, url: str, prefix: str = "vks", username: str = "", password: str = "",
                 ask_status: bool = True, spread_s: float = 1.0):
        self.prefix = prefix
        self.rooms: dict[tuple[str, str], dict] = {}
        self.received = 0
        self.readiness_seqs: dict[tuple[str, str], list[int]] = {}
        self._lock = threading.Condition()
        host, port = _endpoint(url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        if username:
            self.client.username_pw_set(username, password or None)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(
            [(f"{prefix}/+/+/readiness", 1), (f"{prefix}/+/+/lifecycle", 1), (f"{prefix}/+/+/events/#", 1)])
        self.subscribed = threading.Event()
        self.ask_status, self.spread_s = ask_status, spread_s
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.client.reconnect_delay_set(1, 2)   # paho's loop reconnects; back within 2 s of the broker
        self.client.connect_async(host, port, keepalive=30)
        self._lost = False

    def start(self) -> "Watcher":
        self.client.loop_start()
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_disconnect(self, client, userdata, flags, reason, props) -> None:
        if not self._lost and reason.is_failure:      # once per loss, not per failed attempt
            log.warning("fleet watch: connection to the broker lost (%s); reconnecting", reason)
        self._lost = self._lost or reason.is_failure

    def _on_subscribe(self, client, *_) -> None:
        if self._lost:
            log.warning("fleet watch: connected to the broker again")
            self._lost = False
        # A broker may keep no retained state for a late subscriber (RabbitMQ: node-local, and
        # none for wildcards): every room republishes on this request, each within spread_s.
        if self.ask_status:
            client.publish(contract.status_request_topic(self.prefix),
                           contract.encode(contract.status_request_doc(self.spread_s)), qos=1)
        self.subscribed.set()

    def _on_message(self, client, userdata, msg) -> None:
        where = contract.parse_topic(self.prefix, msg.topic)
        if not where:
            return
        court, room, rest = where
        try:
            doc = json.loads(msg.payload)
        except ValueError:
            log.warning("unreadable payload on %s", msg.topic)
            return
        if not isinstance(doc, dict):
            return
        with self._lock:
            self.received += 1
            row = self.rooms.setdefault((court, room), {"lifecycle": "?", "state": "?", "measured_at": None,
                                                        "valid_until": None, "event": "", "reasons": []})
            if rest == "lifecycle":
                row["lifecycle"] = doc.get("state", "?")
            elif rest == "readiness":
                row.update(state=doc.get("state", "?"), measured_at=doc.get("measured_at"),
                           valid_until=doc.get("valid_until"), reasons=doc.get("reasons", []))
                if isinstance(doc.get("seq"), int):
                    self.readiness_seqs.setdefault((court, room), []).append(doc["seq"])
            elif rest.startswith("events/"):
                row["event"] = f"{doc.get('kind', '?')} {time.strftime('%H:%M:%S', time.localtime(doc.get('ts', 0)))}"
            self._lock.notify_all()

    def snapshot(self) -> dict:
        with self._lock:
            return {k: dict(v) for k, v in self.rooms.items()}

    def link(self, row: dict, now: float | None = None) -> str:
        """A room's link as the scheduler must judge it: ``lost`` when its readiness's
        ``valid_until`` passed (its heartbeat stopped: the contract's rule, which needs no
        Will and no retained store), else what its lifecycle says."""
        if contract.room_lost(row, now):
            return contract.LOST
        return row["lifecycle"]

    def lost(self, now: float | None = None) -> set[tuple[str, str]]:
        return {key for key, row in self.snapshot().items() if self.link(row, now) == contract.LOST}

    def wait_lost(self, key: tuple[str, str], timeout: float) -> bool:
        """Wait until the room ``key`` is lost (its Will, or its heartbeat's end): True, or False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                row = self.rooms.get(key)
                if row is not None and self.link(row) == contract.LOST:
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                until = (row or {}).get("valid_until")
                expires_in = until - time.time() if isinstance(until, (int, float)) else left
                self._lock.wait(max(0.01, min(left, expires_in + 0.01)))

    def wait_for(self, predicate, timeout: float) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: predicate(self), timeout)

    def table(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        rows = sorted(self.snapshot().items())
        lines = [f"{'COURT':<14} {'ROOM':<8} {'LINK':<13} {'READINESS':<11} {'AGE':>6} {'VALID':>7}  LAST EVENT / REASON"]
        for (court, room), r in rows:
            age = f"{now - r['measured_at']:.0f}s" if r["measured_at"] else "-"
            valid = "-" if not r["valid_until"] else ("EXPIRED" if r["valid_until"] < now else
                                                       f"{r['valid_until'] - now:.0f}s")
            detail = "; ".join(r["reasons"])[:60] or r["event"]
            lines.append(f"{court:<14} {room:<8} {self.link(r, now):<13} {r['state']:<11} {age:>6} {valid:>7}  {detail}")
        counts = {}
        for _, r in rows:
            counts[r["state"]] = counts.get(r["state"], 0) + 1
        lines.append(f"{len(rows)} rooms: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
        return "\n".join(lines)


def cmd_watch(args) -> int:
    # --once: the rooms answer the status request well within the wait (retained state may be missing;
    # a room answers at most once a second)
    spread = min(1.0, args.wait / 4) if args.once else 1.0
    watcher = Watcher(args.broker, args.prefix, args.username, os.environ.get("VKS_MQTT_PASSWORD", ""),
                      spread_s=spread).start()
    try:
        if not watcher.subscribed.wait(args.wait if args.once else 30):
            print(f"vks-room: no connection to {args.broker}", file=sys.stderr)
            return 1
        if args.once:
            threading.Event().wait(args.wait)    # let the retained messages arrive
            print(watcher.table())
            return 0
        tty = sys.stdout.isatty()
        while True:
            print(("\x1b[H\x1b[2J" if tty else "") + watcher.table(), flush=True)
            threading.Event().wait(args.interval)
    finally:
        watcher.stop()


# --- simulate --------------------------------------------------------------------------------

STATES = ("ready", "ready", "ready", "degraded", "not_ready")


class SimRoom:
    """One simulated room: its own connection, Will, retained state, events and replies."""

    def __init__(self, fleet: "Fleet", court: str, room: str):
        self.fleet = fleet
        self.topics = Topics(fleet.prefix, court, room)
        self.seq = 0
        self.state = "ready"
        self.sent: list[int] = []     # readiness seqs the broker acknowledged
        self._mids: dict[int, int] = {}
        self.turn = 0                 # which of the fleet's brokers it is on
        self.dropped = False          # its connection ended: the driver reconnects it (next broker, if any)
        self.backoff = Backoff()      # the pause before that, as the room's link takes
        self.up: bool | None = None   # None: never connected yet
        self.client = self._new_client()

    def _new_client(self) -> mqtt.Client:
        # one session per broker, as the room's link keeps (a RabbitMQ node that is down holds
        # the session it made, and no other node can open it)
        suffix = f"-{self.turn + 1}" if self.turn else ""
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"sim-{self.topics.court_id}-{self.topics.courtroom}"
                        f"{suffix}", protocol=mqtt.MQTTv311)
        c.will_set(self.topics.lifecycle, contract.encode(contract.lifecycle_doc(self.topics, contract.LOST)),
                   qos=1, retain=True)
        c.max_inflight_messages_set(50)
        c.on_connect = self._on_connect
        c.on_message = self._on_message
        c.on_publish = self._on_publish
        c.on_disconnect = self._on_disconnect
        return c

    def move(self, turn: int, host: str, port: int) -> None:
        """To the fleet's broker ``turn``, on a session of its own there."""
        self.turn = turn
        self.client = self._new_client()
        self._mids.clear()
        self.client.connect_async(host, port, keepalive=60)

    def _on_disconnect(self, client, userdata, flags, reason, props):
        self.dropped = True
        if self.up and reason.is_failure:     # once per loss, not per failed attempt; not on stop()
            log.warning("sim room %s: connection lost (%s); reconnecting", self.topics.courtroom, reason)
            self.up = False
        self.fleet.changed()

    def _on_connect(self, client, userdata, flags, reason, props):
        if reason.is_failure:
            return
        if self.up is False:
            log.warning("sim room %s: connected again", self.topics.courtroom)
        self.up = True
        self.backoff.connected()
        self.fleet.changed()
        client.subscribe(self.topics.commands, qos=1)
        client.publish(self.topics.lifecycle, contract.encode(contract.lifecycle_doc(self.topics, contract.READY)),
                       qos=1, retain=True)
        self.publish_readiness()

    def _next(self, doc: dict) -> bytes:
        self.seq += 1
        return contract.encode({**doc, "seq": self.seq})

    def publish_readiness(self):
        now = time.time()
        reasons = [] if self.state == "ready" else [f"cam_1: simulated {self.state}"]
        doc = contract.readiness_doc(self.topics, {"state": self.state, "reasons": reasons, "measured_at": now,
                                                   "valid_until": now + 600, "activity": "", "devices": {}})
        payload = self._next(doc)
        info = self.client.publish(self.topics.readiness, payload, qos=1, retain=True)
        self._mids[info.mid] = self.seq
        self.fleet.count()

    def change(self):
        old, self.state = self.state, random.choice(STATES)
        if old != self.state:
            kind = "recovered" if self.state == "ready" else "fault"
            payload = self._next(contract.event_doc(self.topics, kind, {"device": "cam_1", "from": old}))
            self.client.publish(self.topics.event(kind), payload, qos=1)
            self.fleet.count()
        self.publish_readiness()

    def _on_publish(self, client, userdata, mid, reason, props):
        seq = self._mids.pop(mid, None)
        if seq is not None:
            self.sent.append(seq)

    def _on_message(self, client, userdata, msg):
        try:
            cmd = contract.parse_command(self.topics, msg.payload)
            doc = contract.reply_doc(self.topics, cmd.request_id, cmd.name, result={"simulated": True})
        except contract.CommandRejected as rej:
            doc = contract.reply_doc(self.topics, rej.request_id, rej.command, reason=rej.reason, code=rej.code,
                                     detail=rej.detail)
        client.publish(self.topics.replies, self._next(doc), qos=1)
        self.fleet.count()


class Fleet:
    """N simulated rooms driven by ``threads`` selector loops."""

    def __init__(self, url: str | list[str], rooms: int, prefix: str = "vks", court: str = "sim",
                 interval: float = 5.0, threads: int = 2):
        # a room whose connection ends (or cannot be made) reconnects after its backoff's jittered
        # pause, as the room's link does: to the next URL of several (cluster nodes), else the same
        self.endpoints = [_endpoint(u) for u in ([url] if isinstance(url, str) else url)]
        self.host, self.port = self.endpoints[0]
        self.prefix = prefix
        self.interval = interval
        self.rooms = [SimRoom(self, court, f"r{i:05d}") for i in range(rooms)]
        self._groups = [self.rooms[i::threads] for i in range(threads)]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._count_lock = threading.Lock()
        self.messages = 0
        self._changed = threading.Condition()   # a room connected, dropped or failed to connect

    def changed(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until ``predicate(fleet)`` holds (checked as rooms connect, drop or fail to): True, or False."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)

    def count(self):
        with self._count_lock:
            self.messages += 1

    def start(self) -> "Fleet":
        for i, group in enumerate(self._groups):
            t = threading.Thread(target=self._drive, args=(group,), name=f"fleet-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(10)
        for room in self.rooms:
            try:
                room.client.disconnect()
            except Exception:
                pass

    @property
    def connected(self) -> int:
        return sum(r.client.is_connected() for r in self.rooms)

    def _drive(self, rooms: list[SimRoom]) -> None:
        sel = selectors.DefaultSelector()
        registered: dict[SimRoom, tuple] = {}   # room -> (socket, fd, events) registered
        next_change = {r: time.monotonic() + random.uniform(0, self.interval) for r in rooms}
        for r in rooms:
            r.client.connect_async(self.host, self.port, keepalive=60)
        pending = list(rooms)
        later: list[tuple[float, SimRoom]] = []      # (when, room): moving to its next broker
        while not self._stop.is_set():
            now = time.monotonic()
            for r in rooms:
                if r.dropped:
                    r.dropped = False
                    later.append((now + r.backoff.failed(), r))
                    self.changed()
            due = [r for t, r in later if t <= now]
            if due:
                later = [(t, r) for t, r in later if t > now]
                for r in due:
                    turn = (r.turn + 1) % len(self.endpoints)
                    r.move(turn, *self.endpoints[turn])
                pending.extend(due)
            # connect a few at a time so the broker is not flooded with handshakes
            batch, pending = pending[:50], pending[50:]
            for r in batch:
                try:
                    r.client.reconnect()
                except OSError as exc:   # the broker is not there (yet): try again later, or the next one
                    log.debug("sim room connect failed: %s", exc)
                    r.dropped = True
            now = time.monotonic()
            for r in rooms:
                sock = r.client.socket()
                known = registered.get(r)
                if known is not None and (sock is None or known[0] is not sock):
                    # by its fd number: a closed socket no longer tells its fd, and a new one may reuse it
                    try:
                        sel.unregister(known[1])
                    except (KeyError, ValueError):
                        pass
                    del registered[r]
                    known = None
                if sock is None:
                    continue
                events = selectors.EVENT_READ | (selectors.EVENT_WRITE if r.client.want_write() else 0)
                if known is None:
                    try:
                        sel.register(sock, events, r)
                    except KeyError:   # its fd was another room's closed socket a moment ago
                        sel.unregister(sock.fileno())
                        sel.register(sock, events, r)
                    registered[r] = (sock, sock.fileno(), events)
                elif known[2] != events:
                    sel.modify(sock, events, r)
                    registered[r] = (sock, known[1], events)
                if self.interval > 0 and now >= next_change[r] and r.client.is_connected():
                    r.change()
                    next_change[r] = now + self.interval * random.uniform(0.5, 1.5)
            for key, mask in sel.select(timeout=0.05):
                room = key.data
                if mask & selectors.EVENT_READ:
                    room.client.loop_read(10)
                if mask & selectors.EVENT_WRITE:
                    room.client.loop_write()
            for r in rooms:
                r.client.loop_misc()
        sel.close()


def cmd_simulate(args) -> int:
    if args.rooms < 1:
        from vksroom.drivers.errors import UsageError

        raise UsageError("--rooms must be at least 1")
    fleet = Fleet(args.broker, args.rooms, args.prefix, args.court, args.interval).start()
    start = time.monotonic()
    try:
        while args.duration <= 0 or time.monotonic() - start < args.duration:
            threading.Event().wait(5 if args.duration <= 0 else min(5, args.duration))
            elapsed = time.monotonic() - start
            print(f"{elapsed:6.0f}s  {fleet.connected}/{args.rooms} rooms connected, {fleet.messages} messages "
                  f"({fleet.messages / elapsed:.0f}/s)", flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fleet", help="central-side MQTT tools: watch rooms, simulate rooms")
    fsub = p.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)
    w = fsub.add_parser("watch", help="live table of every room's readiness, as the scheduler sees it")
    s = fsub.add_parser("simulate", help="N simulated rooms that speak the contract (load tests)")
    for q in (w, s):
        q.add_argument("--broker", required=True, help="mqtt://HOST:PORT")
        q.add_argument("--prefix", default="vks", help="topic prefix (default vks)")
    w.add_argument("--username", default="", help="broker user; the password comes from $VKS_MQTT_PASSWORD")
    w.add_argument("--interval", type=float, default=2.0, help="seconds between redraws")
    w.add_argument("--once", action="store_true", help="print one table and exit")
    w.add_argument("--wait", type=float, default=2.0, help="with --once: seconds to collect retained state")
    w.set_defaults(func=cmd_watch)
    s.add_argument("--rooms", type=int, required=True, help="how many rooms")
    s.add_argument("--court", default="sim", help="court id of the simulated rooms")
    s.add_argument("--interval", type=float, default=5.0, help="mean seconds between a room's state changes")
    s.add_argument("--duration", type=float, default=0, help="seconds to run (0: until Ctrl-C)")
    s.set_defaults(func=cmd_simulate)
