"""The room's MQTT link: follows the controller's events, publishes them to the centre
through the durable outbox, and hands the centre's commands to the controller.

    link = MqttLink(controller, cfg)   # cfg: vksroom.controller.config.RoomConfig
    link.start()                       # returns at once, even while the broker is down
    ...
    link.stop()                        # flushes, publishes lifecycle 'disconnected'

Threads: the link's *network* thread (connects, runs paho's loop until the connection ends,
waits a jittered, capped :class:`~.brokers.Backoff` and connects again, keeping the session;
paho's callbacks run on it), the link's *pump* (hands outbox rows to paho in order, at most ``window`` unacked)
and the *command* worker (validates commands, calls ``controller.command``, replies).
A command is kept in the outbox database's inbox as it arrives, on paho's thread, before
paho acknowledges it; the worker answers the inbox in order, also what a stopped or crashed
room left there, so every command the room took is answered under its request id. When
``max_queued`` commands wait, a new one is answered "busy" at once.
Event handlers run on the controller's thread and only append to the outbox (one small
SQLite commit), which is what makes an event durable the moment the controller emits it.

MQTT 5 is tried first; a broker that answers "unsupported protocol version" (amqtt, old
brokers) gets MQTT 3.1.1 from then on. With MQTT 5 the retained readiness carries a
message expiry at its ``valid_until`` and every payload a content type.
"""
from __future__ import annotations

import logging
import random
import ssl
import threading
import time
import urllib.parse
from collections import deque
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from vksroom.controller.texts import Refused, say

from . import contract
from .brokers import Backoff
from .contract import Topics
from .outbox import Outbox

log = logging.getLogger(__name__)

READINESS_KEY = "readiness"
STATUS_EVERY = 1.0        # seconds: a room's answers to status requests are at least this far apart
# paho's loop wakes on every packet and on every publish from another thread; its timeout only
# bounds how late it sends a keepalive ping or sees a broker that stopped answering them.
LOOP_SHARE = 0.25         # of the keepalive
LOOP_MAX_S = 5.0
# The only CONNACK codes that mean "this broker does not speak MQTT 5": 3.1.1's 0x01
# "unacceptable protocol version" and MQTT 5's 0x84 "unsupported protocol version". A refused
# login (3.1.1: 4, 5; MQTT 5: 0x86, 0x87) or any other refusal keeps the protocol.
_UNSUPPORTED_PROTOCOL = (1, 132)


class MqttLink:
    def __init__(self, controller, cfg, *, outbox_path: str | Path | None = None, window: int = 64,
                 backoff: tuple[float, float] = (0.25, 1.5), max_outbox: int = 100_000,
                 protocol: str = "auto", max_queued: int = 64):
        if protocol not in ("auto", "5", "3.1.1"):
            raise ValueError("protocol must be auto, 5 or 3.1.1")
        self.controller = controller
        self.cfg = cfg
        self.mq = cfg.mqtt
        self.topics = Topics(self.mq.topic_prefix, cfg.court_id, str(cfg.courtroom))
        self.base_client_id = self.mq.client_id or f"vksroom-{cfg.court_id}-{cfg.courtroom}"
        self.outbox_path = Path(outbox_path) if outbox_path else Path(cfg.data_dir) / "mqtt-outbox.sqlite3"
        self.window = window
        self.brokers = tuple(self.mq.brokers)    # tried in turn: the next one after every failure or drop
        self._turn = 0
        self._reflow = False    # a new paho client: what the old one had in flight goes again, from the outbox
        self.backoff = Backoff(*backoff, stable=max(20.0, 2.0 * self.mq.keepalive))
        self.max_outbox = max_outbox
        self.protocol = mqtt.MQTTv311 if protocol == "3.1.1" else mqtt.MQTTv5
        self._auto_protocol = protocol == "auto"

        self.outbox: Outbox | None = None
        self._client: mqtt.Client | None = None
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        # Owned by the pump thread alone: it publishes, then maps the mid; paho's acks reach
        # it through _acks, so an ack that overtakes the mapping is simply read a turn later.
        # (paho calls on_publish holding its own message lock: never call paho holding ours.)
        self._inflight: dict[int, int] = {}       # paho mid -> outbox seq
        self._handed = 0                           # highest seq handed to paho
        self._acks: deque = deque()                # (mid, reason) from paho's thread
        self._acks_in = self._acks_done = 0        # acks received / written to the outbox (settled())
        self._swap = False
        self._connack = False                    # this attempt got a CONNACK (any answer)
        self._stopping = threading.Event()
        self.connected = threading.Event()
        self.ready = threading.Event()            # connected, subscribed, lifecycle 'ready' sent
        self.last_error: str | None = None        # why the last connection attempt failed (None once connected)
        self._socket_error: str | None = None     # paho's last socket error text, read on disconnect
        # paho's errors (e.g. "failed to receive on socket: [SSL: ...]") reach only this link,
        # through a logger of its own (not registered, so not shared) that drops everything
        # below ERROR before it is formatted: paho's per-packet debug lines cost nothing.
        # None of paho's errors carries credentials.
        self._paho_errors = logging.Logger(f"{__name__}.paho", logging.ERROR)
        self._paho_errors.propagate = False
        self._paho_errors.addHandler(_RememberError(self))
        self._last_readiness: dict | None = None
        # Held from choosing which readiness to queue to queuing it: the controller's thread (events),
        # the network thread (on connect), the pump (heartbeat) and the command worker (status.send)
        # all queue it, and each new row supersedes the last, so a thread that read an older
        # readiness and queued it after a newer one would leave the centre the older one until
        # the next heartbeat (seen: 'unknown' kept for 30 s when a connect raced the room turning ready).
        self._readiness_lock = threading.RLock()
        self._call_quality: dict[str, dict] = {}    # codec id -> its latest figures, during a hearing
        self.heartbeat = float(getattr(self.mq, "heartbeat_s", 30))   # readiness republished this often
        self._next_beat = 0.0
        self._status_due: float | None = None    # when to answer the scheduler's status request
        self._status_last = float("-inf")        # when the last answer went (answers STATUS_EVERY apart)
        self._status_new = False                 # a request came: the pump's wait must count with it
        self._unsubscribe = None
        self._pump: threading.Thread | None = None
        self._network: threading.Thread | None = None
        self._worker: threading.Thread | None = None
        self.max_queued = max_queued
        self._received = threading.Event()        # the inbox has new commands
        self.stats = {"published": 0, "acked": 0, "connects": 0, "commands": 0, "rejected": 0,
                      "connect_failures": 0, "answered_again": 0}

    # --- public --------------------------------------------------------------------------

    def start(self) -> "MqttLink":
        if self._pump:
            return self
        self._stopping.clear()
        self.outbox = Outbox(self.outbox_path, self.max_outbox, overflow=self._overflow_message,
                             encode=contract.encode)
        if len(self.outbox):
            log.info("MQTT outbox holds %d unsent messages from before; they go first", len(self.outbox))
        waiting = len(self.outbox.received(limit=self.max_queued))
        if waiting:
            log.info("MQTT inbox holds %d commands received before the restart; they are answered first", waiting)
        self._unsubscribe = self.controller.events.subscribe(self._on_event)
        self._put_current_readiness()
        self._pump = threading.Thread(target=self._run_pump, name="mqtt-pump", daemon=True)
        self._worker = threading.Thread(target=self._run_commands, name="mqtt-commands", daemon=True)
        self._new_client()
        self._pump.start()
        self._worker.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Flush what the broker can take within ``timeout``, say 'disconnected', disconnect."""
        if not self._pump:
            return
        if self._unsubscribe:
            self._unsubscribe()
        deadline = time.monotonic() + timeout
        if self.connected.is_set():
            self.flush(max(0.0, deadline - time.monotonic() - 1.0))
        client = self._client
        if self.connected.is_set():
            self._publish_lifecycle(contract.DISCONNECTED, wait=max(0.1, deadline - time.monotonic()))
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        self._received.set()
        client.disconnect()
        for t in (self._network, self._pump, self._worker):
            t.join(max(0.1, deadline - time.monotonic()))
        self._pump = self._worker = self._network = None
        self.connected.clear()
        self.ready.clear()
        self.outbox.close()

    def flush(self, timeout: float) -> bool:
        """Wait until the outbox is empty (everything acknowledged); False on timeout."""
        with self._wake:
            return self._wake.wait_for(lambda: len(self.outbox) == 0, timeout)

    def settled(self, timeout: float) -> bool:
        """Wait until every acknowledgement the broker's connection has delivered so far is
        written to the outbox (the pump settles them a moment after paho reads them)."""
        with self._wake:
            return self._wake.wait_for(lambda: self._acks_done == self._acks_in, timeout)

    def wait_until(self, predicate, timeout: float):
        """Wait until ``predicate(link)`` is truthy (checked on every connection change, ack and
        failure); returns its value, or the last falsy value on timeout."""
        with self._wake:
            return self._wake.wait_for(lambda: predicate(self), timeout)

    @property
    def client_id(self) -> str:
        """One session per broker: the id names the broker's place in ``mqtt.url`` after the
        first (``vksroom-almaty-01-101-2``). A RabbitMQ cluster keeps a session's queue on the
        node that made it; while that node is down no node can open or drop that session, so
        the room moving to another node needs a session (an id) of its own there."""
        return self.base_client_id if self._turn == 0 else f"{self.base_client_id}-{self._turn + 1}"

    @property
    def url(self) -> str:
        """The broker the link is connected to, or tries next."""
        return self.brokers[self._turn]

    @property
    def protocol_name(self) -> str:
        return "5" if self.protocol == mqtt.MQTTv5 else "3.1.1"

    # --- controller side: only enqueue ---------------------------------------------------------

    def _on_event(self, event) -> None:
        if event.kind in ("call.quality", "hearing.ended") and self._last_readiness is not None:
            self._follow_call_quality(event)
        if event.kind == "readiness":
            self._put_readiness(event.data)
        else:
            doc = contract.event_doc(self.topics, event.kind, event.data, id=event.id, ts=event.ts)
            self._put(self.topics.event(event.kind), doc)

    def _put_readiness(self, readiness: dict | None = None) -> None:
        """Queue the retained readiness: ``readiness`` (an event's, the controller's newest word)
        or, with None, the latest one again (on connect, the heartbeat, new call figures)."""
        with self._readiness_lock:
            if readiness is not None:
                self._last_readiness = readiness
            readiness = self._last_readiness
            if readiness is None:
                return
            if self._call_quality:     # during a hearing: the call's figures as last sent (rate-limited upstream)
                readiness = {**readiness, "call_quality": dict(self._call_quality)}
            self._next_beat = time.monotonic() + self.heartbeat
            self._put(self.topics.readiness, contract.readiness_doc(self.topics, readiness, self.heartbeat),
                      retain=True, key=READINESS_KEY)

    def _put_current_readiness(self) -> None:
        """Queue the controller's readiness as it is now (also the values its events leave out).
        Read under the lock: a change after the read is announced by an event queued after it."""
        with self._readiness_lock:
            self._put_readiness(self.controller.readiness().to_dict())

    def _follow_call_quality(self, event) -> None:
        """Call quality rides in the retained readiness while a hearing is under way."""
        with self._readiness_lock:   # the heartbeat copies the figures on the pump's thread
            self._change_call_quality(event)

    def _change_call_quality(self, event) -> None:
        if event.kind == "call.quality":
            self._call_quality[event.data["device"]] = {"hearing_id": event.data.get("hearing_id"),
                                                        **event.data["quality"]}
        elif self._call_quality:
            self._call_quality.clear()
        else:
            return
        self._put_readiness()

    def _put(self, topic: str, doc: dict, retain: bool = False, key: str | None = None,
             reply_to: str | None = None, done: int | None = None) -> int:
        seq = self.outbox.put(topic, doc, qos=1, retain=retain, key=key, reply_to=reply_to, done=done)
        with self._wake:
            self._wake.notify_all()
        return seq

    def _overflow_message(self, summary: dict) -> tuple[str, dict]:
        return self.topics.event("outbox.overflow"), contract.event_doc(self.topics, "outbox.overflow", summary)

    # --- the pump: outbox -> paho, in order ---------------------------------------------------

    def _run_pump(self) -> None:
        while not self._stopping.is_set():
            with self._wake:
                self._wake.wait_for(lambda: self._stopping.is_set() or self._acks or self._status_new
                                    or (self.connected.is_set() and len(self._inflight) < self.window
                                        and len(self.outbox) > len(self._inflight)),
                                    timeout=self._until_due())
                if self._stopping.is_set():
                    return
                acks = list(self._acks)
                self._acks.clear()
                reflow, self._reflow = self._reflow, False
                self._status_new = False     # (the next wait counts with its _status_due)
            if reflow:
                self._inflight.clear()
                self._handed = 0
            try:
                if acks:
                    try:
                        self._settle(acks)
                    finally:
                        with self._wake:
                            self._acks_done += len(acks)
                            self._wake.notify_all()
                if self.connected.is_set() and self._status_due is not None and time.monotonic() >= self._status_due:
                    self._status_due = None          # the scheduler asked everyone: lifecycle and readiness again
                    self._status_last = time.monotonic()
                    self._publish_lifecycle(contract.READY)
                    self._next_beat = 0.0
                if self.connected.is_set() and time.monotonic() >= self._next_beat and self._last_readiness:
                    self._put_readiness()   # the heartbeat: valid_until moves on
                if self.connected.is_set() and len(self._inflight) < self.window:
                    for msg in self.outbox.pending(self._handed, self.window - len(self._inflight)):
                        self._hand(msg)
            except Exception:  # never let the pump die; the rows stay in the outbox
                log.exception("MQTT pump failed; retrying")
                self._stopping.wait(1.0)

    def _until_due(self) -> float | None:
        """How long the pump may sleep (under ``_wake``): until the heartbeat or a status answer is
        due, which only a connected link sends; everything else (a message queued, an ack, the
        connection made or lost, a status request, stop) notifies it. None: until notified."""
        if not self.connected.is_set():
            return None
        due = min(self._next_beat, self._status_due if self._status_due is not None else float("inf"))
        return max(0.0, due - time.monotonic())

    def _hand(self, msg) -> None:
        props = None
        if self.protocol == mqtt.MQTTv5:
            props = Properties(PacketTypes.PUBLISH)
            props.ContentType = "application/json"
            if msg.key == READINESS_KEY:
                valid_until = msg.doc.get("valid_until")
                if isinstance(valid_until, (int, float)):
                    props.MessageExpiryInterval = max(1, int(valid_until - time.time()))
        info = self._client.publish(msg.topic, msg.payload, qos=msg.qos, retain=msg.retain, properties=props)
        self._inflight[info.mid] = msg.seq
        self._handed = msg.seq
        self.stats["published"] += 1

    def _settle(self, acks) -> None:
        done = []
        for mid, reason in acks:
            seq = self._inflight.pop(mid, None)
            if seq is None:
                continue   # a lifecycle message, or an ack of a client we replaced
            if reason is not None and reason.is_failure:
                log.error("MQTT broker refused message seq %d: %s; it is dropped from the outbox", seq, reason)
            done.append(seq)
        if done:
            self.outbox.ack(*done)
            self.stats["acked"] += len(done)

    # --- paho client ----------------------------------------------------------------------------

    def _new_client(self) -> None:
        v5 = self.protocol == mqtt.MQTTv5
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=self.protocol,
                        clean_session=None if v5 else False, reconnect_on_failure=False)
        c.connect_timeout = 3.0
        c.max_inflight_messages_set(self.window)
        if self.mq.username:
            c.username_pw_set(self.mq.username, self.mq.password or None)
        if self.mq.tls:
            c.tls_set(ca_certs=self.mq.ca_file or None, certfile=self.mq.cert_file or None,
                      keyfile=self.mq.key_file or None)
        will = contract.lifecycle_doc(self.topics, contract.LOST, self.client_id)
        c.will_set(self.topics.lifecycle, contract.encode(will), qos=1, retain=True)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_subscribe = self._on_subscribe
        c.on_publish = self._on_publish
        c.on_message = self._on_message
        c.enable_logger(self._paho_errors)
        self._client = c
        log.info("MQTT link for %s: connecting to %s as %s%s (MQTT %s)", self.topics.base, self.url,
                 self.client_id, f", user {self.mq.username}" if self.mq.username else "", self.protocol_name)
        if self._network is None:
            self._network = threading.Thread(target=self._run_network, name="mqtt-network", daemon=True)
            self._network.start()

    def _run_network(self) -> None:
        """Connect, run paho's loop until the connection ends, pause (:class:`Backoff`), again.

        Always the same client: its session (MQTT 5: clean start off, a session expiry; 3.1.1:
        clean session off) is kept, so the broker hands over the commands it queued meanwhile."""
        while not self._stopping.is_set():
            client = self._client
            self._connack = False
            try:
                self._connect(client)
            except Exception as exc:   # OSError, TLS errors: logged once per distinct reason
                self._connect_failed(self._describe_failure(exc))
            else:
                if self._stopping.is_set():
                    client.disconnect()
                # returns when the connection ends
                client.loop_forever(timeout=min(LOOP_MAX_S, max(0.5, self.mq.keepalive * LOOP_SHARE)))
            if self._stopping.is_set():
                return
            if self._swap:    # the broker does not speak MQTT 5: the same broker again, at once, in 3.1.1
                self._fall_back_to_311()
                continue
            pause = self.backoff.failed()
            if len(self.brokers) > 1:
                self._turn = (self._turn + 1) % len(self.brokers)
                with self._wake:
                    self._reflow = True
                self._new_client()   # the next broker's session
            with self._wake:
                self._wake.notify_all()    # wait_until() callers watch the attempts
            self._stopping.wait(pause)

    def _connect(self, client: mqtt.Client) -> None:
        props = None
        if self.protocol == mqtt.MQTTv5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 24 * 3600   # keep commands queued while the room is away
        where = urllib.parse.urlsplit(self.url)
        client.connect(where.hostname or "127.0.0.1", where.port or (8883 if where.scheme == "mqtts" else 1883),
                       keepalive=self.mq.keepalive,
                       clean_start=False if props else mqtt.MQTT_CLEAN_START_FIRST_ONLY, properties=props)

    def _fall_back_to_311(self) -> None:
        # Only ever before the first MQTT 5 connection: nothing was handed to the old client.
        with self._wake:
            self._swap = False
        self.protocol = mqtt.MQTTv311
        log.info("MQTT broker %s does not speak MQTT 5; using 3.1.1", self.url)
        self._new_client()

    def _on_connect(self, client, userdata, flags, reason, props) -> None:
        self._connack = True
        if self.protocol == mqtt.MQTTv5 and not reason.is_failure:
            self._auto_protocol = False   # the broker speaks 5: stay with it
        if reason.is_failure:
            if reason.value in _UNSUPPORTED_PROTOCOL and self.protocol == mqtt.MQTTv5 and self._auto_protocol:
                with self._wake:
                    self._swap = True
                    self._wake.notify_all()
                return
            self._connect_failed(f"the broker at {self.url} refused the connection: {reason}")
            return
        if client is not self._client:
            return
        self.last_error = None
        self.backoff.connected()
        self.stats["connects"] += 1
        log.info("MQTT connected to %s (MQTT %s, session present: %s)", self.url, self.protocol_name,
                 flags.session_present)
        client.subscribe([(self.topics.commands, 1), (self.topics.status_request, 1)])
        self._publish_lifecycle(contract.INIT)
        self._put_readiness()   # the broker may have lost the retained copy
        with self._wake:
            self.connected.set()
            self._wake.notify_all()

    def _on_subscribe(self, client, userdata, mid, reasons, props) -> None:
        for topic, r in zip((self.topics.commands, self.topics.status_request), reasons):
            if r.is_failure:
                log.error("MQTT broker refused the subscription to %s: %s", topic, r)
        self._publish_lifecycle(contract.READY)
        self.ready.set()

    def _on_disconnect(self, client, userdata, flags, reason, props) -> None:
        was_connected = self.connected.is_set()
        self.connected.clear()
        self.ready.clear()
        socket_error, self._socket_error = self._socket_error, None
        if not was_connected and socket_error and "ssl" in socket_error.lower():
            # The TLS handshake failed after it seemed done (TLS 1.3 sends the broker's verdict on
            # our certificate with its first record): a refusal, not an MQTT version problem.
            self._connect_failed(self._describe_failure(socket_error))
            return
        if not was_connected and not self._connack and self._auto_protocol and self.protocol == mqtt.MQTTv5:
            # Closed before any CONNACK: some 3.1.1 brokers (amqtt) can not even parse an MQTT 5
            # CONNECT that carries a Will, and hang up or time out instead of answering. A CONNACK
            # refusing the login (or anything else) is an answer in MQTT 5: never a reason to fall back.
            with self._wake:
                self._swap = True
                self._wake.notify_all()
            return
        with self._wake:
            self._wake.notify_all()
        if was_connected and not self._stopping.is_set() and client is self._client:
            log.warning("MQTT disconnected from %s (%s); %d messages wait in the outbox", self.url, reason,
                        len(self.outbox))

    def _describe_failure(self, cause) -> str:
        """A plain sentence for why the broker could not be reached; ``cause`` an exception or text."""
        text = str(cause) if cause is not None else "unknown error"
        url = self.url
        if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in text:
            detail = getattr(cause, "verify_message", "") or text
            return (f"TLS: the broker's certificate at {url} is not trusted ({detail}); check mqtt.ca_file "
                    f"({self.mq.ca_file or 'the system CAs'}) and that the certificate names {urllib.parse.urlsplit(url).hostname}")
        if "CERTIFICATE_REQUIRED" in text or "ALERT" in text.upper() or "EOF occurred in violation" in text:
            # (a broker that closes the handshake on a missing certificate can also just hang up)
            mine = (f"client certificate {self.mq.cert_file}" if self.mq.cert_file
                    else "no client certificate (mqtt.cert_file and mqtt.key_file are not set)")
            return f"TLS: the broker at {url} refused the handshake; the room presented {mine} ({text})"
        if isinstance(cause, ssl.SSLError) or "SSL" in text:
            return f"TLS handshake with {url} failed: {text}"
        if isinstance(cause, ConnectionRefusedError):
            return f"no broker accepts connections at {url} (connection refused)"
        return f"cannot connect to {url}: {text}"

    def _connect_failed(self, why: str) -> None:
        """Record and log (once per distinct reason) a failed attempt; the network thread retries with backoff."""
        level = logging.DEBUG if why == self.last_error else logging.WARNING
        log.log(level, "MQTT link for %s cannot connect: %s; retrying with backoff", self.topics.base, why)
        with self._wake:
            self.last_error = why
            self.stats["connect_failures"] += 1
            self._wake.notify_all()

    def _on_publish(self, client, userdata, mid, reason, props) -> None:
        if client is not self._client:
            return
        with self._wake:
            self._acks.append((mid, reason))
            self._acks_in += 1
            self._wake.notify_all()

    def _publish_lifecycle(self, state: str, wait: float = 0.0) -> bool:
        doc = contract.lifecycle_doc(self.topics, state, self.client_id)
        info = self._client.publish(self.topics.lifecycle, contract.encode(doc), qos=1, retain=True)
        if not wait:
            return True
        try:
            info.wait_for_publish(wait)
        except (RuntimeError, ValueError):   # not connected any more
            return False
        return info.is_published()

    # --- commands --------------------------------------------------------------------------------

    def _on_message(self, client, userdata, message) -> None:
        if message.topic == self.topics.status_request:
            self._status_requested(bytes(message.payload))
            return
        if message.topic != self.topics.commands:
            log.warning("MQTT message on %s ignored: not this room's command topic", message.topic)
            return
        payload = bytes(message.payload)
        if len(payload) <= contract.MAX_COMMAND_BYTES and self.outbox.receive(payload, self.max_queued) is not None:
            self._received.set()
            return
        # Too big to keep, or no room: answered now, under its request id when it can be read.
        env = contract.read_envelope(payload)
        if env.problem is None:
            if not (env.request_id and self._answer_again(env.request_id, self.outbox.reply_for(env.request_id))):
                self._reject(env.request_id, env.command, say("refused.busy", {"count": self.max_queued}),
                             code="refused.busy", detail=f"{self.max_queued} commands are waiting")
        else:
            self._reject(env.request_id, env.command, say("refused.unreadable"), code="refused.unreadable",
                         detail=env.problem)

    def _status_requested(self, payload: bytes) -> None:
        """The scheduler's "everyone send status": answered after a random pause within its
        ``spread_s`` (a thousand rooms do not answer at once). Requests that come while an answer
        is pending share it; answers are STATUS_EVERY apart, so a burst of requests costs one
        answer a second, and a fresh request right after a stale one (queued in the room's
        session while it was away) is still answered."""
        spread = contract.read_status_request(payload)
        if spread is None:
            return
        with self._wake:
            if self._status_due is not None:
                return
            earliest = max(time.monotonic(), self._status_last + STATUS_EVERY)
            self._status_due = earliest + random.uniform(0.0, spread)
            self._status_new = True
            self._wake.notify_all()

    def _run_commands(self) -> None:
        """Answer the inbox in the order commands arrived, until the link stops."""
        last = 0
        while not self._stopping.is_set():
            self._received.clear()
            rows = self.outbox.received(last)
            if not rows:
                self._received.wait()
            for inbox_id, payload in rows:
                if self._stopping.is_set():
                    return     # the rest waits in the inbox for the next start
                last = inbox_id
                try:
                    self._command(payload, inbox_id)
                except Exception:  # a command must never take the link down; it stays in the inbox
                    log.exception("MQTT command handling failed")

    def _command(self, payload: bytes, inbox_id: int | None = None) -> None:
        """Handle one command; every way out replies (with ``done=inbox_id``: off the inbox)."""
        self.stats["commands"] += 1
        try:
            cmd = contract.parse_command(self.topics, payload)
        except contract.CommandRejected as rej:
            # Nothing runs and nothing is remembered (a corrected command may reuse the id), unless
            # the id was answered before: e.g. an accepted command redelivered after it expired.
            if not (rej.request_id and self._answer_again(rej.request_id, self.outbox.reply_for(rej.request_id),
                                                          inbox_id)):
                self._reject(rej.request_id, rej.command, rej.reason, done=inbox_id, code=rej.code, detail=rej.detail)
            return
        fresh, earlier = self.outbox.claim(cmd.request_id, cmd.name)
        if not fresh:   # QoS 1 redelivery (also after a restart) or a sender's retry: never run twice
            if not self._answer_again(cmd.request_id, earlier, inbox_id):
                self._reject(cmd.request_id, cmd.name, say("refused.outcome_unknown"), remember=True, done=inbox_id,
                             code="refused.outcome_unknown", detail="the room restarted while this command was running")
            return
        try:
            result = self.controller.command(cmd.name, cmd.args)
        except Refused as exc:      # the room's sentence, in its language (a refused schedule message too)
            self._reject(cmd.request_id, cmd.name, exc.say(), remember=True, done=inbox_id, code=exc.code,
                         detail=getattr(exc, "detail", ""))
            return
        except Exception:           # the detail is in the log, never in the reason
            log.exception("controller failed on command %s (request %s)", cmd.name, cmd.request_id)
            self._reject(cmd.request_id, cmd.name, say("refused.failed"), remember=True, done=inbox_id,
                         code="refused.failed")
            return
        log.info("MQTT command %s (request %s) accepted", cmd.name, cmd.request_id)
        doc = contract.reply_doc(self.topics, cmd.request_id, cmd.name, result=result if result is not None else {})
        self._put(self.topics.replies, doc, reply_to=cmd.request_id, done=inbox_id)
        if cmd.name == "status.send":
            self._put_current_readiness()

    def _answer_again(self, request_id: str, earlier: dict | None, done: int | None = None) -> bool:
        """Send the reply stored for ``request_id`` once more (new ``seq``, same content)."""
        if earlier is None:
            return False
        self.stats["answered_again"] += 1
        log.info("MQTT command %s (request %s) already answered (%s); sending the same reply", earlier.get("command"),
                 request_id, earlier.get("status"))
        self._put(self.topics.replies, earlier, done=done)
        return True

    def _reject(self, request_id, command, reason: str, remember: bool = False, done: int | None = None,
                code: str | None = None, detail: str = "") -> None:
        """Reply 'rejected'; ``remember``: the id was claimed, this is its one reply from now on;
        ``done``: the inbox row it answers; ``code``/``detail``: the refusal's code and technical words."""
        self.stats["rejected"] += 1
        log.warning("MQTT command %s (request %s) rejected: %s%s", command or "?", request_id or "?", reason,
                    f" ({detail})" if detail else "")
        doc = contract.reply_doc(self.topics, request_id, command, reason=reason, code=code, detail=detail)
        self._put(self.topics.replies, doc, reply_to=request_id if remember else None, done=done)


class _RememberError(logging.Handler):
    """Keeps the text of paho's last error on the link, for the next disconnect to explain."""

    def __init__(self, link: MqttLink):
        super().__init__(logging.ERROR)
        self.link = link

    def emit(self, record: logging.LogRecord) -> None:
        self.link._socket_error = record.getMessage()
