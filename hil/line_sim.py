"""The plumbing every line-protocol simulator shares: a serial port on a pseudo-terminal
(or a TCP listener), sessions, timers and fault injection.

A simulated serial device appears at a *stable path*: a symlink in a temporary directory
named like a ``/dev/serial/by-id`` entry, pointing at the current ``/dev/pts/N``.
:meth:`LineSimulator.unplug` closes the pty and removes the link, as pulling a USB
adapter removes its by-id entry; :meth:`LineSimulator.replug` opens a new pty and points
the same path at it. The driver only ever knows the stable path.

Faults: :meth:`send_garbage` (binary noise), :meth:`send_overlong` (a line of many KiB),
``reply_delay`` (slow replies), ``silent`` (the device hangs: reads, never answers),
:meth:`drop` (the connection is cut and restored: a TCP reset, a pty hang-up),
``chunk_size``/``chunk_delay`` (replies trickle out as partial lines) and
:meth:`corrupt_next_reply` (noise glued to the front of the next reply).

This module imports nothing from the rest of vksroom: a simulator is a device.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import re
import select
import socket
import tempfile
import threading
import time
import tty
from typing import Callable

from vksroom.hil.standalone import wait_for_stop

log = logging.getLogger(__name__)

_SPLIT = re.compile(rb"\r\n|\r|\n")


class Session:
    """One conversation with the device: the pty between plugs, or one TCP connection.
    Login state, echo, feedback registrations and subscriptions live here."""

    def __init__(self, write: Callable[[bytes], None], name: str):
        self._write = write
        self.name = name
        self.state: dict = {}
        self.alive = True
        self.lock = threading.Lock()
        self.out_lock = threading.RLock()

    def send_raw(self, data: bytes) -> None:
        if not self.alive:
            return
        with self.out_lock, self.lock:
            try:
                self._write(data)
            except OSError:
                self.alive = False


class PtyPort:
    """A pseudo-terminal behind a stable symlink; one session per plug."""

    kind = "pty"

    def __init__(self, link_name: str, link_dir: str | None = None):
        self._own_dir = link_dir is None
        self.dir = link_dir or tempfile.mkdtemp(prefix="vks-serial-")
        os.makedirs(self.dir, exist_ok=True)
        self.path = os.path.join(self.dir, link_name)
        self.master: int | None = None
        self.slave: int | None = None
        self.session: Session | None = None

    @property
    def url(self) -> str:
        return self.path

    def plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)      # no echo, no line editing: bytes pass as they are
        self.master, self.slave = master, slave
        tmp = self.path + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.path)   # atomic: the path never names a half-made link

    def unplug(self) -> None:
        if os.path.lexists(self.path):
            os.unlink(self.path)
        if self.session is not None:
            self.session.alive = False
            self.session = None
        for fd in (self.master, self.slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.master = self.slave = None

    def remove(self) -> None:
        self.unplug()
        if self._own_dir:
            try:
                os.rmdir(self.dir)
            except OSError:
                pass

    def write(self, data: bytes) -> None:
        fd = self.master
        if fd is None:
            raise OSError("unplugged")
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]


class TcpPort:
    """A TCP listener on 127.0.0.1; one session per accepted connection."""

    kind = "tcp"

    def __init__(self, port: int = 0, host: str = "127.0.0.1"):
        self.host, self.port = host, port
        self.listener: socket.socket | None = None
        self.clients: dict[socket.socket, Session] = {}

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def plug(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(8)
        self.port = sock.getsockname()[1]   # keep the same port across replugs
        self.listener = sock

    def drop_clients(self) -> None:
        for conn, session in list(self.clients.items()):
            session.alive = False
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        self.clients.clear()

    def unplug(self) -> None:
        if self.listener is not None:   # first: no new connection may slip in
            try:
                # stop listening now: close() alone waits for the accept thread's select()
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None
        self.drop_clients()

    def remove(self) -> None:
        self.unplug()


class LineSimulator:
    """Base of a line-protocol device. Subclasses implement :meth:`handle` (one input
    line of one session) and may override :meth:`on_session` (a new session began)."""

    in_terminator = _SPLIT          # how input lines are split
    eol = "\r\n"                    # what ends an output line
    link_name = "usb-VKS_Simulator-if00-port0"
    default_transport = "pty"
    default_port = 0

    def __init__(self, transport: str | None = None, port: int | None = None, link_dir: str | None = None,
                 reply_delay: float = 0.0, seed: int | None = None, link_name: str | None = None):
        transport = transport or self.default_transport
        if transport == "pty":
            self.port = PtyPort(link_name or self.link_name, link_dir)
        elif transport == "tcp":
            self.port = TcpPort(self.default_port if port is None else port)
        else:
            raise ValueError(f"transport must be 'pty' or 'tcp', not {transport!r}")
        self.reply_delay = reply_delay
        self.silent = False               # the device hangs: reads input, never answers
        self.chunk_size = 0               # >0: replies trickle out in pieces this big...
        self.chunk_delay = 0.0            # ...this many seconds apart (partial lines)
        self._prefix = b""
        self.rng = random.Random(seed)
        self.received: list[str] = []          # every input line, for tests and logs
        self._stop = threading.Event()
        self._lock = threading.RLock()
        self._threads: list[threading.Thread] = []
        self._timers: set[threading.Timer] = set()
        self._plugged = False
        self._gen = 0
        self._wake: tuple[int, int] | None = None
        self._pipes: list[tuple[int, int]] = []
        self.sessions_started = 0
        self._cond = threading.Condition(self._lock)

    # --- public ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The path or URL a driver opens (stable across unplug/replug)."""
        return self.port.url

    def start(self):
        self._stop.clear()
        self._plug()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._unplug()
        for t in list(self._threads):
            if t is not threading.current_thread():
                t.join(timeout=2)
        self._threads.clear()
        self.port.remove()
        for pipe in self._pipes:
            for fd in pipe:
                os.close(fd)
        self._pipes.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def unplug(self) -> None:
        """Pull the cable: the pty closes and its stable path disappears (TCP: the
        listener and every connection close)."""
        self._unplug()

    def replug(self) -> None:
        """Put it back: a new pty behind the same path (TCP: the same port)."""
        if not self._plugged:
            self._plug()

    def drop(self) -> None:
        """Cut the connection once and come back at once (TCP reset / pty hang-up)."""
        if isinstance(self.port, TcpPort):
            with self._lock:
                self.port.drop_clients()
        else:
            self._unplug()
            self._plug()

    def send_garbage(self, nbytes: int = 64, data: bytes | None = None) -> bytes:
        """Push binary noise (no line terminator) to every session."""
        if data is None:
            data = bytes(self.rng.randrange(256) for _ in range(nbytes))
        self._broadcast(data)
        return data

    def send_overlong(self, nbytes: int = 6000, terminated: bool = True) -> None:
        """Push one printable line longer than any driver should keep."""
        body = bytes(self.rng.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ") for _ in range(nbytes))
        self._broadcast(body + (self.eol.encode() if terminated else b""))

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait (on a condition, not a sleep) until ``predicate()`` holds; for tests."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_received(self, text: str, timeout: float) -> bool:
        return self.wait_for(lambda: any(text in line for line in self.received), timeout)

    @property
    def sessions(self) -> list[Session]:
        if isinstance(self.port, TcpPort):
            return list(self.port.clients.values())
        return [self.port.session] if self.port.session is not None else []

    # --- for subclasses --------------------------------------------------------------

    def on_session(self, session: Session) -> None:
        """A new session began (a plug, a connection)."""

    def handle(self, session: Session, line: str) -> None:
        raise NotImplementedError

    def on_raw(self, session: Session, data: bytes) -> None:
        """Raw bytes as they arrive, before line splitting (for character echo)."""

    def send(self, session: Session, *lines: str, delay: bool = True) -> None:
        """Write lines to one session, after ``reply_delay`` when ``delay``; with the
        injected prefix (:meth:`corrupt_next_reply`) and in ``chunk_size`` pieces
        ``chunk_delay`` apart when those faults are set."""
        if delay and self.reply_delay > 0 and self._stop.wait(self.reply_delay):
            return
        data = "".join(line + self.eol for line in lines).encode("utf-8")
        if delay and self._prefix:
            with self._lock:
                data, self._prefix = self._prefix + data, b""
        if not self.chunk_size:
            session.send_raw(data)
            return
        with session.out_lock:   # a device writes one reply at a time, even when it trickles
            # Paced by the clock, as a slow line's bytes are: a chunk whose time has come goes at
            # once, so a loaded machine's late wake-ups do not slow the line down on top.
            start = time.monotonic()
            for k, i in enumerate(range(0, len(data), self.chunk_size)):
                session.send_raw(data[i:i + self.chunk_size])
                if self._stop.wait(max(0.0, start + (k + 1) * self.chunk_delay - time.monotonic())):
                    return

    def corrupt_next_reply(self, data: bytes) -> None:
        """Put ``data`` (noise, a partial line) in front of the next reply."""
        with self._lock:
            self._prefix += data

    def send_text(self, session: Session, text: str) -> None:
        session.send_raw(text.encode("utf-8"))

    def broadcast(self, *lines: str) -> None:
        self._broadcast("".join(line + self.eol for line in lines).encode("utf-8"))

    def after(self, delay: float, fn: Callable[[], None]) -> threading.Timer:
        """Run ``fn`` after ``delay`` seconds unless stopped or unplugged first."""
        gen = self._gen

        def run():
            with self._lock:
                self._timers.discard(timer)
                if self._stop.is_set() or gen != self._gen:
                    return
            try:
                fn()
            except Exception:
                log.exception("simulator timer failed")

        timer = threading.Timer(delay, run)
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()
        return timer

    def cancel_timers(self) -> None:
        with self._lock:
            for t in self._timers:
                t.cancel()
            self._timers.clear()

    # --- internals -------------------------------------------------------------------

    def _broadcast(self, data: bytes) -> None:
        for session in self.sessions:
            session.send_raw(data)

    def _plug(self) -> None:
        with self._lock:
            self.port.plug()
            self._plugged = True
            self._gen += 1
            gen = self._gen
            # a byte in this pipe wakes this plug's readers at once on unplug: a thread
            # still in select() would otherwise keep the pty open for up to 0.1 s
            self._wake = os.pipe()
            self._pipes.append(self._wake)
            if isinstance(self.port, PtyPort):
                session = Session(self.port.write, self.port.path)
                self.port.session = session
                self._start_session(session)
                target, args = self._pty_loop, (self.port.master, session, gen, self._wake[0])
            else:
                target, args = self._accept_loop, (self.port.listener, gen, self._wake[0])
        t = threading.Thread(target=target, args=args, daemon=True, name=f"{type(self).__name__}-io")
        self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _unplug(self) -> None:
        with self._lock:
            self._plugged = False
            self._gen += 1
            if self._wake is not None:
                os.write(self._wake[1], b"x")
                self._wake = None
            self.port.unplug()
            self._cond.notify_all()
        self.cancel_timers()

    def _start_session(self, session: Session) -> None:
        self.sessions_started += 1
        try:
            self.on_session(session)
        except Exception:
            log.exception("simulator session start failed")

    def _pty_loop(self, fd: int, session: Session, gen: int, wake: int) -> None:
        def read() -> bytes:
            # Unplug closes this pty and replug's openpty() takes the lowest free numbers, so
            # the same fd number may already name the next plug's pty: a reader that slept
            # past its unplug would take the new session's first line and answer it as the
            # old one (the Poly test's lost 'callstate register', 1 in hundreds under load).
            # Plug and unplug change the generation under this lock; while it holds, the fd
            # is this plug's, and select() said it is readable, so the read does not block.
            with self._lock:
                if gen != self._gen:
                    return b""
                return os.read(fd, 4096)

        self._read_loop(read, fd, session, gen, wake)

    def _accept_loop(self, listener: socket.socket, gen: int, wake: int) -> None:
        while not self._stop.is_set() and gen == self._gen:
            try:
                ready, _, _ = select.select([listener, wake], [], [], 0.1)
                if listener not in ready:
                    continue
                conn, _ = listener.accept()
            except (OSError, ValueError):
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            session = Session(conn.sendall, f"{self.port.url}#{conn.fileno()}")
            with self._lock:
                if gen != self._gen:
                    conn.close()
                    return
                self.port.clients[conn] = session
            self._start_session(session)
            t = threading.Thread(target=self._read_loop, args=(lambda c=conn: c.recv(4096), conn, session, gen, wake),
                                 daemon=True, name=f"{type(self).__name__}-conn")
            self._threads.append(t)
            t.start()

    def _read_loop(self, read: Callable[[], bytes], handle, session: Session, gen: int, wake: int) -> None:
        buf = b""
        while not self._stop.is_set() and gen == self._gen and session.alive:
            try:
                ready, _, _ = select.select([handle, wake], [], [], 0.1)
                if handle not in ready:
                    continue
                data = read()
            except (OSError, ValueError):
                break
            if not data:
                break
            self.on_raw(session, data)
            if data[:1] == b"\n" and buf == b"" and session.state.get("_cr"):
                data = data[1:]        # the LF of a CR LF split across two reads
            session.state["_cr"] = data.endswith(b"\r")
            buf += data
            parts = self.in_terminator.split(buf)
            buf = parts.pop()
            if len(buf) > 65536:
                buf = b""
            for raw in parts:
                line = raw.decode("utf-8", "replace")
                with self._cond:
                    self.received.append(line)
                    del self.received[:-1000]
                    self._cond.notify_all()
                if self.silent:
                    continue
                try:
                    self.handle(session, line)
                except Exception:
                    log.exception("simulator failed on %r", line)
        session.alive = False
        if isinstance(self.port, TcpPort):
            with self._lock:
                for conn, s in list(self.port.clients.items()):
                    if s is session:
                        self.port.clients.pop(conn, None)
                        conn.close()


def run_cli(sim_factory: Callable[[argparse.Namespace], LineSimulator], parser: argparse.ArgumentParser,
            argv=None) -> int:
    """Run a simulator from the command line until Ctrl-C; print where it listens."""
    parser.add_argument("--reply-delay", type=float, default=0.0, help="seconds before each reply (slow device)")
    parser.add_argument("--seed", type=int, default=None, help="random seed for levels and garbage")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    sim = sim_factory(args)
    sim.reply_delay = args.reply_delay

    sim.start()
    print(f"{type(sim).__name__} at {sim.url}  (Ctrl-C to stop)", flush=True)
    try:
        wait_for_stop()      # SIGTERM too: the by-id link and pty go away
    finally:
        sim.stop()
    return 0
