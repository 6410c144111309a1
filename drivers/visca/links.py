"""Links: how VISCA packets reach one camera over a :class:`Transport`.

* :class:`IpLink` - Sony VISCA over IP: the 8-byte header, sequence numbers, RESET,
  resend with the same sequence number, control errors ``0F 01`` / ``0F 02``.
* :class:`RawLink` - raw VISCA over TCP or UDP (PTZOptics/Avonic style): packets split on ``FF``.
* :class:`SerialLink` on a :class:`SerialBus` - RS-232/422 daisy chains of up to 7
  cameras sharing one port: AddressSet, IF_Clear, Network Change re-addressing.
* :class:`SharedUdpTransport` - many cameras on one local UDP socket, replies told apart
  by source address.

A link's ``recv(timeout)`` returns one event, or None on timeout:
``("reply", Reply)``, ``("control", payload)`` (IP control errors), ``("garbage", text)``
(an unreadable packet: the stream has already resynchronised past it).
"""
from __future__ import annotations

import collections
import logging
import select
import socket
import struct
import threading
import time
import weakref

from vksroom.drivers.errors import (ConfigError, DeviceError, DeviceTimeout, ProtocolError, TransportClosed,
                                    TransportError)
from vksroom.drivers.transport import Transport
from vksroom.drivers.visca import framing, messages
from vksroom.drivers.visca.messages import hexs

log = logging.getLogger(__name__)

_TIMEVAL = struct.Struct("@ll")   # struct timeval for SO_RCVTIMEO


def _tail(chunk: bytes):
    """The shortest tail of ``chunk`` starting at a header byte that reads as a reply."""
    for i in range(len(chunk) - 3, 0, -1):
        if 0x80 <= chunk[i] < 0xFF:
            try:
                return i, messages.parse_reply(chunk[i:])
            except ProtocolError:
                continue
    return None


def events(splitter: framing.Splitter, data: bytes) -> list[tuple[str, "str | messages.Reply"]]:
    """Cut ``data`` into packets and decode each: ``("reply", Reply)`` or ``("garbage", text)``.

    Junk glued in front of a good packet (no ``FF`` between them) is cut off: the packet
    is the shortest tail that reads, even when junk and packet together happen to read as
    an inquiry answer (answers other than the version carry only nibbles).
    """
    out: list[tuple[str, str | messages.Reply]] = []
    for kind, chunk in splitter.feed(data):
        if kind == "garbage":
            out.append(("garbage", f"unreadable bytes {hexs(chunk)}"))
            continue
        try:
            reply = messages.parse_reply(chunk)
            if not (reply.kind == "completion" and any(0x80 <= b < 0xFF for b in reply.data)):
                out.append(("reply", reply))
                continue
            problem = ""
        except ProtocolError as exc:
            reply, problem = None, str(exc)
        tail = _tail(chunk)
        if tail is not None and (reply is None or not any(0x80 <= b < 0xFF for b in tail[1].data)):
            out += [("garbage", f"unreadable bytes {hexs(chunk[:tail[0]])}"), ("reply", tail[1])]
        elif reply is not None:
            out.append(("reply", reply))
        else:
            out.append(("garbage", problem))
    return out


class Link:
    """Base: owns a transport, sends packets, yields events for one camera."""

    dedup = False           # the camera recognises a resend: safe to resend any command
    matches_replies = False  # stale replies are filtered out (sequence numbers)

    def __init__(self, transport: Transport):
        self.transport = transport
        self.lock = threading.RLock()    # one transaction at a time on this link
        self.shut = False                # closed by its owner: never reopened behind its back

    def describe(self) -> str:
        return self.transport.describe()

    @property
    def is_open(self) -> bool:
        return self.transport.is_open

    def open(self) -> None:
        self.transport.open()

    def close(self) -> None:
        self.transport.close()

    def initialise(self, timeout: float, retries: int) -> None:
        """Bring the link into a known state after (re)opening."""

    def prepare(self) -> None:
        """Called before each transaction: reopen if closed, drop stale input."""
        if not self.transport.is_open:
            self.refuse_if_shut()
            self.open()
            if self.shut:     # closed by another thread while this one reopened
                self.transport.close()
                self.refuse_if_shut()
        self.drain()

    def refuse_if_shut(self) -> None:
        """A camera closed by its owner (perhaps while another thread was asking it
        something) is not reopened by the next question: reopening would take its peer on
        the shared socket back for an object nobody will close again."""
        if self.shut:
            raise TransportClosed(f"camera at {self.describe()} was closed; open() it again to use it")

    def drain(self) -> None:
        while self.recv(0.0) is not None:
            pass

    def send(self, pkt: bytes, resend: bool = False) -> None:
        raise NotImplementedError

    def recv(self, timeout: float):
        raise NotImplementedError

    def ask(self, pkt: bytes, timeout: float):
        """Send ``pkt`` (a first try) and return the first event within ``timeout``:
        the usual inquiry in one call (links may do it with fewer steps)."""
        self.send(pkt)
        return self.recv(timeout)


class _Splitting(Link):
    """Links whose transport carries bare VISCA packets (raw network, serial)."""

    def __init__(self, transport: Transport):
        super().__init__(transport)
        self._splitter = framing.Splitter()
        self._events: collections.deque = collections.deque()

    def open(self) -> None:
        self._splitter.clear()
        self._events.clear()
        super().open()

    def _next(self, timeout: float):
        """The next event from the stream (any sender)."""
        deadline = time.monotonic() + timeout
        while not self._events:
            data = self.transport.read(max(0.0, deadline - time.monotonic()))
            if not data:
                return None
            self._events.extend(events(self._splitter, data))
        return self._events.popleft()


class RawLink(_Splitting):
    """Raw VISCA over a network transport (TCP stream or UDP datagrams)."""

    def send(self, pkt: bytes, resend: bool = False) -> None:
        self.transport.write(pkt)

    def recv(self, timeout: float):
        return self._next(timeout)


# the first 4 header bytes of a reply datagram of n bytes (type 0111, payload length n - 8)
_REPLY_HEAD = {n: framing.HEADER.pack(framing.REPLY, n - 8, 0)[:4] for n in range(9, 25)}
# the same for what we send: [is an inquiry][payload length]
_HEADS = tuple({n: framing.HEADER.pack(t, n, 0)[:4] for n in range(1, 17)} for t in (framing.COMMAND, framing.INQUIRY))


class IpLink(Link):
    """Sony VISCA over IP on a datagram transport (UDP 52381).

    Settings: ``sequence`` "increment" (default) or "zero" (always send 0: cameras that
    accept only that; they cannot tell a resend, so non-idempotent commands are not
    resent); ``sequence_min``/``sequence_max`` for cameras with a short counter (NDI PTZ1
    handles 1-3); ``match_sequence`` False for cameras that answer every message with
    the same sequence number.
    """

    def __init__(self, transport: Transport, sequence: str = "increment", sequence_min: int = 0,
                 sequence_max: int = framing.SEQUENCE_MAX, match_sequence: bool = True):
        super().__init__(transport)
        if sequence not in ("increment", "zero"):
            raise ConfigError(f"sequence must be 'increment' or 'zero', got {sequence!r}")
        self.sequence = sequence
        self.sequence_min, self.sequence_max = int(sequence_min), int(sequence_max)
        self.match_sequence = bool(match_sequence)
        self.dedup = sequence == "increment"
        self.matches_replies = self.match_sequence and self.dedup
        self._next_seq = self.sequence_min
        self._current: int | None = None
        self._pending: collections.deque = collections.deque()

    def _take_seq(self) -> int:
        if self.sequence == "zero":
            return 0
        seq = self._next_seq
        self._next_seq = self.sequence_min if seq >= self.sequence_max else seq + 1
        return seq

    def send(self, pkt: bytes, resend: bool = False) -> None:
        if not resend or self._current is None:
            self._current = self._take_seq()
        ptype = framing.INQUIRY if messages.is_inquiry(pkt) else framing.COMMAND
        self.transport.write(framing.ip_pack(ptype, self._current, pkt))

    def ask(self, pkt: bytes, timeout: float):
        # send() and the first recv() in one: the round trip every poll makes
        deadline = time.monotonic() + timeout
        if self.sequence == "zero":
            seq = 0
        else:      # _take_seq(), inline
            seq = self._next_seq
            self._next_seq = self.sequence_min if seq >= self.sequence_max else seq + 1
        self._current = seq
        transport = self.transport
        if 3 <= len(pkt) <= 16:   # ip_pack(), inline, for a packet that surely fits
            transport.write(_HEADS[pkt[1] == 0x09][len(pkt)] + seq.to_bytes(4, "big") + pkt)
        else:
            transport.write(framing.ip_pack(framing.INQUIRY if messages.is_inquiry(pkt) else framing.COMMAND,
                                            seq, pkt))
        if self._pending:
            return self._pending.popleft()
        data = transport.read(timeout)
        n = len(data)
        # the usual answer: a reply datagram with our sequence number and one whole packet
        if n > 9 and data[-1] == 0xFF and data[:4] == _REPLY_HEAD.get(n) and data.find(0xFF, 8) == n - 1 and \
                (not self.match_sequence or int.from_bytes(data[4:8], "big") == seq):
            try:
                return ("reply", messages.parse_reply(data[8:]))
            except ProtocolError:
                pass
        if not data:
            return None
        ev = self._event(data)
        if ev is not None:
            return ev
        return self.recv(max(0.0, deadline - time.monotonic()))

    def recv(self, timeout: float):
        pending = self._pending
        if pending:
            return pending.popleft()
        deadline = time.monotonic() + timeout
        while True:
            data = self.transport.read(timeout)
            if not data:
                return None
            ev = self._event(data)
            if ev is not None:
                return ev
            if pending:
                return pending.popleft()
            timeout = max(0.0, deadline - time.monotonic())

    def _event(self, data: bytes):
        """The event one datagram makes, or None for one to skip (a late answer to an
        earlier message; several packets in one payload go to ``_pending``)."""
        try:
            ptype, seq, payload = framing.ip_unpack(data)
        except ProtocolError as exc:
            return ("garbage", str(exc))
        if ptype == framing.REPLY:
            if self.match_sequence and seq != self._current:
                return None
            if payload[-1] == 0xFF and payload.find(0xFF) == len(payload) - 1:
                try:   # the usual case: one whole packet
                    return ("reply", messages.parse_reply(payload))
                except ProtocolError:
                    pass
            self._pending.extend(events(framing.Splitter(), payload))
            return None
        if ptype == framing.CONTROL_REPLY:
            if payload == framing.RESET_PAYLOAD:
                return ("reset", seq)
            if self.match_sequence and seq != self._current:
                return None
            return ("control", payload)
        return ("garbage", f"datagram of payload type {ptype:04X} where a reply was expected")

    def prepare(self) -> None:
        if self.matches_replies and self.transport.is_open:
            self._pending.clear()   # all drain() does here: the usual case in one step
        else:
            super().prepare()

    def drain(self) -> None:
        self._pending.clear()
        if not self.matches_replies:
            super().drain()
        # else: late answers carry old sequence numbers and are skipped as they come

    def initialise(self, timeout: float, retries: int) -> None:
        """RESET: the camera forgets old sequence numbers; ours restart at ``sequence_min``."""
        self._pending.clear()
        for _ in range(retries + 1):
            self.transport.write(framing.ip_pack(framing.CONTROL, 0, framing.RESET_PAYLOAD))
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                ev = self.recv(left)
                if ev and ev[0] == "reset":
                    self._next_seq = self.sequence_min
                    self._current = None
                    return
        raise DeviceTimeout(f"camera at {self.describe()} did not answer RESET ({retries + 1} tries)")


class SerialBus:
    """One serial port carrying a daisy chain of up to 7 cameras.

    All cameras on the chain share the port and one transaction lock. ``initialise``
    runs AddressSet (cameras number themselves 1..n along the ring) then a broadcast
    IF_Clear; a Network Change from any camera marks the chain for re-addressing before
    the next transaction.
    """

    _registry: dict[str, "SerialBus"] = {}
    _registry_lock = threading.Lock()

    def __init__(self, transport: Transport):
        self.transport = transport
        self.lock = threading.RLock()
        self.count = 0                  # cameras found by the last AddressSet
        self.needs_address = True
        self.users = 0
        self._link = _Splitting(transport)

    @classmethod
    def shared(cls, key: str, factory) -> "SerialBus":
        with cls._registry_lock:
            bus = cls._registry.get(key)
            if bus is None:
                bus = cls._registry[key] = cls(factory())
            bus.users += 1
            return bus

    def release(self, key: str) -> None:
        with self._registry_lock:
            self.users -= 1
            if self.users <= 0:
                self._registry.pop(key, None)
                self.transport.close()

    def open(self) -> None:
        with self.lock:
            self._link.open()
            self.needs_address = True

    def next_event(self, timeout: float):
        ev = self._link._next(timeout)
        if ev and ev[0] == "reply" and ev[1].kind == "network_change":
            log.info("network change from camera %d on %s: re-addressing", ev[1].sender, self.transport.describe())
            self.needs_address = True
        return ev

    def _broadcast(self, pkt: bytes, want: str, timeout: float, retries: int):
        for _ in range(retries + 1):
            self.transport.write(pkt)
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                ev = self.next_event(left)
                if ev and ev[0] == "reply" and ev[1].kind == want:
                    return ev[1]
        raise DeviceTimeout(f"no camera on {self.transport.describe()} answered {hexs(pkt)} ({retries + 1} tries)")

    def initialise(self, timeout: float, retries: int) -> None:
        with self.lock:
            if not self.transport.is_open:
                self.open()
            while self._link._next(0.0) is not None:
                pass
            self.needs_address = False
            reply = self._broadcast(messages.address_set(), "address_set", timeout, retries)
            self.count = reply.code - 1
            self._broadcast(messages.if_clear(8), "if_clear", timeout, retries)
            log.info("%s: AddressSet found %d camera(s)", self.transport.describe(), self.count)


class SerialLink(Link):
    """One camera (address 1-7) on a :class:`SerialBus`."""

    def __init__(self, bus: SerialBus, address: int, key: str = ""):
        super().__init__(bus.transport)
        self.bus, self.address, self.key = bus, messages.check_address(address), key
        self.lock = bus.lock
        self._settings = (0.5, 2)
        self._initialised = False

    def describe(self) -> str:
        return f"{self.transport.describe()} camera {self.address}"

    def open(self) -> None:
        if not self.transport.is_open or self._initialised:
            self.bus.open()      # a reconnect: reopen the port, re-address the chain

    def close(self) -> None:
        if self.key:
            self.bus.release(self.key)
            self.key = ""
        else:
            self.transport.close()

    def initialise(self, timeout: float, retries: int) -> None:
        """AddressSet + IF_Clear, unless another camera on the chain just did it."""
        self._settings = (timeout, retries)
        if self._initialised or self.bus.needs_address or not self.bus.count:
            self.bus.initialise(timeout, retries)
        self._initialised = True
        self._check_present()

    def _check_present(self) -> None:
        if self.address > self.bus.count:
            raise DeviceError(f"camera address {self.address} is not on the chain at {self.transport.describe()}: "
                              f"AddressSet found {self.bus.count} camera(s)")

    def prepare(self) -> None:
        self.refuse_if_shut()
        if not self.transport.is_open:
            self.bus.open()
        self.drain()
        if self.bus.needs_address:
            self.bus.initialise(*self._settings)
            self._check_present()

    def send(self, pkt: bytes, resend: bool = False) -> None:
        self.transport.write(pkt)

    def recv(self, timeout: float):
        deadline = time.monotonic() + timeout
        while True:
            ev = self.bus.next_event(max(0.0, deadline - time.monotonic()))
            if ev is None or ev[0] != "reply" or ev[1].sender == self.address or ev[1].kind == "network_change":
                return ev


class UdpHub:
    """One local UDP socket shared by many cameras.

    There is no reader thread. Leader/follower: whichever camera is waiting for an
    answer and finds the socket free becomes the leader and reads the socket itself,
    filing datagrams from other cameras into their mailboxes by source address and
    waking them; the others (followers) wait on a condition until their mailbox fills
    or the socket is free. A lone camera so pays no thread hand-off and no condition
    wake-up: it only takes an uncontended lock.

    The socket stays blocking; see :meth:`_recv` for how it waits.
    """

    _hubs: dict[int, "UdpHub"] = {}
    _hubs_lock = threading.RLock()   # re-entrant: a dropped transport's finalizer may run inside get()
    _LONG, _MARGIN, _SLACK = 0.03, 0.025, 0.002   # seconds; see _recv

    def __init__(self, local_port: int = 0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.sock.bind(("", local_port))
        except OSError as exc:
            self.sock.close()
            raise TransportError(f"cannot listen on local UDP port {local_port}: {exc}") from exc
        self.local_port = local_port
        self.port = self.sock.getsockname()[1]
        # peer -> weak reference to its transport: a camera dropped without close() must
        # not hold its peer (and, once its port is reused, someone else's) for good
        self.boxes: dict[tuple, weakref.ref] = {}
        self.users = 0
        self.cond = threading.Condition()
        self.leader = threading.Lock()     # held by the one thread reading the socket
        self.waiting = 0                   # followers waiting on ``cond``
        self._timeo = -1.0                 # the SO_RCVTIMEO now set (seconds)

    @classmethod
    def get(cls, local_port: int = 0) -> "UdpHub":
        with cls._hubs_lock:
            hub = cls._hubs.get(local_port)
            if hub is None:
                hub = cls._hubs[local_port] = cls(local_port)
            hub.users += 1
            return hub

    def release(self) -> None:
        with self._hubs_lock:
            self.users -= 1
            if self.users <= 0:
                if self._hubs.get(self.local_port) is self:
                    del self._hubs[self.local_port]
                self.sock.close()

    def _recv(self, timeout: float):
        """One ``(data, addr)`` from the socket within ``timeout`` seconds, or None.
        Only the leader calls this.

        A long wait is one blocking ``recvfrom`` under the kernel's ``SO_RCVTIMEO`` (one
        system call where a Python socket timeout makes two: ``poll`` then ``recvfrom``).
        That timer counts in scheduler ticks (up to 10 ms each, rounded up), so it is set
        ``_MARGIN`` short of the deadline, and the last stretch, like any short wait, is
        waited precisely with ``select``."""
        sock = self.sock
        try:
            if timeout > self._LONG:
                want = timeout - self._MARGIN
                if abs(want - self._timeo) > self._SLACK:   # most waits are alike: no call
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                                    _TIMEVAL.pack(*divmod(int(want * 1e6), 1_000_000)))
                    self._timeo = want
                return sock.recvfrom(65535)
            if timeout > 0 and not select.select((sock,), (), (), timeout)[0]:
                return None
            return sock.recvfrom(65535, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError, ConnectionRefusedError, ConnectionResetError):
            return None

    def _wake(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def _follow(self, box: "SharedUdpTransport", deadline: float) -> bool:
        """Wait until ``box`` has mail, the socket is free or ``box`` is closed: True;
        False when ``deadline`` passed first."""
        with self.cond:
            self.waiting += 1
            try:
                while not box.queue and self.leader.locked() and box.hub is self:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self.cond.wait(left)
            finally:
                self.waiting -= 1
        return True

    def read_for(self, box: "SharedUdpTransport", timeout: float) -> bytes:
        """The next datagram from ``box``'s peer, b"" after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        queue, peer = box.queue, box.peer
        if not queue and box.hub is self and self.leader.acquire(False):
            # the usual case, a lone camera: the next datagram is its answer
            try:
                got = self._recv(timeout) if not queue else None
            except (OSError, ValueError) as exc:
                self.leader.release()
                raise TransportClosed(f"UDP socket for {box.describe()} failed: {exc}") from exc
            if got is not None and got[1] == peer and not queue:
                self.leader.release()
                if self.waiting:
                    self._wake()
                return got[0]
            self.leader.release()
            if got is not None:
                self._file(got)
            return self._read_for(box, deadline)    # the rest: the general loop
        return self._read_for(box, deadline)

    def _file(self, got) -> None:
        """Put a datagram read by the leader into its camera's mailbox."""
        data, addr = got
        ref = self.boxes.get(addr[:2])
        other = ref() if ref is not None else None
        if other is not None:
            other.queue.append(data)
        if self.waiting:
            self._wake()

    def _read_for(self, box: "SharedUdpTransport", deadline: float) -> bytes:
        queue, peer = box.queue, box.peer
        while True:
            if queue:
                return queue.popleft()
            if box.hub is not self:
                raise TransportClosed(f"UDP link to {box.describe()} is not open")
            if not self.leader.acquire(False):
                if not self._follow(box, deadline):
                    return queue.popleft() if queue else b""
                continue
            try:
                if queue:    # filed by the leader before us, just before it let go
                    return queue.popleft()
                while True:
                    got = self._recv(deadline - time.monotonic())
                    if got is None:
                        if time.monotonic() >= deadline:
                            return b""
                        continue
                    if got[1] == peer:
                        return got[0]
                    self._file(got)
            except (OSError, ValueError) as exc:
                raise TransportClosed(f"UDP socket for {box.describe()} failed: {exc}") from exc
            finally:
                self.leader.release()
                if self.waiting:     # a follower may lead now
                    self._wake()


def _unregister(hub: UdpHub, peer: tuple, ref: weakref.ref) -> None:
    """Give ``peer`` back (if ``ref`` still holds it) and let go of ``hub``."""
    with hub.cond:
        if hub.boxes.get(peer) is ref:
            del hub.boxes[peer]
    hub.release()


class SharedUdpTransport(Transport):
    """A :class:`Transport` to one peer over a shared :class:`UdpHub` socket."""

    datagram = True

    def __init__(self, host: str, port: int, local_port: int = 0):
        self.host, self.port_, self.local_port = host, int(port), int(local_port)
        self.peer: tuple | None = None
        self.hub: UdpHub | None = None
        self.queue: collections.deque = collections.deque(maxlen=256)

    @property
    def _hub(self) -> UdpHub | None:
        return self.hub

    def open(self) -> None:
        self.close()
        try:
            info = socket.getaddrinfo(self.host, self.port_, socket.AF_INET, socket.SOCK_DGRAM)[0]
        except OSError as exc:
            raise TransportError(f"cannot resolve {self.host}: {exc}") from exc
        peer = self.peer = info[4][:2]
        hub = UdpHub.get(self.local_port)
        with hub.cond:
            ref = hub.boxes.get(peer)
            owner = ref() if ref is not None else None
            mine = None
            if owner is None or owner is self:     # free, or its owner was garbage-collected
                mine = hub.boxes[peer] = weakref.ref(self)
                self.hub = hub
        if self.hub is None or mine is None:
            hub.release()
            raise TransportError(
                f"another open camera object already talks to {self.describe()} on the shared local UDP "
                f"port {hub.port}: close() that one first (or reuse it), or give this one its own socket "
                f"with shared_socket=False or another local_port")
        # dropped without close(): free the peer and the hub when the object goes
        self._release = weakref.finalize(self, _unregister, hub, peer, mine)

    def close(self) -> None:
        hub, self.hub = self.hub, None
        if hub is not None:
            with hub.cond:
                self.queue.clear()
                hub.cond.notify_all()
            self._release()

    @property
    def is_open(self) -> bool:
        return self.hub is not None

    def write(self, data: bytes) -> None:
        hub, peer = self.hub, self.peer
        if hub is None or peer is None:
            raise TransportClosed(f"UDP link to {self.describe()} is not open")
        try:
            hub.sock.sendto(data, peer)
        except OSError as exc:
            raise TransportError(f"cannot send to {self.describe()}: {exc}") from exc

    def read(self, timeout: float) -> bytes:
        hub = self.hub
        if hub is None:
            raise TransportClosed(f"UDP link to {self.describe()} is not open")
        return hub.read_for(self, timeout)

    def describe(self) -> str:
        return f"udp://{self.host}:{self.port_}"
