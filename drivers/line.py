"""The line-protocol layer: text lines over any :class:`~vksroom.drivers.transport.Transport`.

Codecs (Cisco xAPI, Poly), DSPs (Biamp TTP) and microphones (Shure) all talk in lines of
text. :class:`LineClient` turns a byte transport into:

* **framing** by a terminator (``b"\\n"`` with any ``\\r`` stripped, or ``b">"`` for Shure
  ``< ... >`` strings), plus *prompts* that end without one (``login:``, ``Password:``);
* **request/response matching**: :meth:`LineClient.request` sends one line and collects
  the lines that belong to its reply until the line that ends it, with a timeout;
* **unsolicited lines** (feedback, subscriptions, meters) delivered to ``on_event`` from
  the reader thread;
* **noise handling**: binary garbage is cut away and a line longer than ``max_line``
  bytes (4 KiB) is discarded up to the next terminator, so the stream resynchronises;
  both are counted and reported by :meth:`LineClient.degraded`;
* **reconnection**: when the transport closes (USB adapter pulled, pty hung up, TCP
  reset) the reader reopens it in the background, then runs the driver's ``on_connect``
  session set-up (login, echo off, feedback) again. No operator, no restart.

One reader thread per client; requests may come from any thread, one at a time.
"""
from __future__ import annotations

import importlib
import logging
import re
import threading
import time
from collections import deque
from typing import Callable, TypeVar

from vksroom.drivers.errors import (
    DeviceError, DeviceRejected, DeviceTimeout, TransportClosed, TransportError,
)
from vksroom.drivers.transport import Transport, transport_for_url

log = logging.getLogger(__name__)

MAX_LINE = 4096
READ_WAIT_S = 5.0   # the reader's longest wait for bytes; everything that needs it sooner wakes it
# a control character (other than tab) or an undecodable byte marks binary noise
_NOISE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ufffd]")


class LineClient:
    """Line framing, request/response and reconnection over one transport.

    ``on_connect(client)`` runs after every (re)open, in its own thread, before any other
    request is let through: the place for login and session set-up. If it raises, the
    link is closed and retried after ``retry_after_failure`` seconds.
    ``on_event(line)`` receives every line that answers no pending request.
    ``on_link(up, reason)`` is told when the link comes up (ready) or goes down.
    After ``desync_after`` requests in a row without a reply the stream is taken as out
    of step: the link is reopened and set up again.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        terminator: bytes = b"\n",
        frame_start: bytes = b"",
        prompts: tuple[str, ...] = (),
        eol: str = "\r\n",
        encoding: str = "utf-8",
        max_line: int = MAX_LINE,
        on_connect: Callable[["LineClient"], None] | None = None,
        on_event: Callable[[str], None] | None = None,
        on_link: Callable[[bool, str], None] | None = None,
        reconnect_interval: float = 0.2,
        retry_after_failure: float = 2.0,
        noise_memory_s: float = 60.0,
        desync_after: int = 3,
        name: str = "",
    ):
        self.transport = transport
        self.terminator = terminator
        self.frame_start = frame_start
        self.prompts = tuple(prompts)
        self.eol = eol
        self.encoding = encoding
        self.max_line = max_line
        self.on_connect = on_connect
        self.on_event = on_event
        self.on_link = on_link
        self.reconnect_interval = reconnect_interval
        self.retry_after_failure = retry_after_failure
        self.noise_memory_s = noise_memory_s
        self.desync_after = desync_after   # this many timeouts in a row: reopen and set up again
        self._silent = 0
        self.name = name or transport.describe()

        self._lock = threading.Condition()       # guards everything below
        self._req_lock = threading.Lock()       # one request at a time
        self._pending: _Pending | None = None
        self._buf = bytearray()
        self._skipping = False                   # inside an overlong line: drop to next terminator
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._ready = False
        self._generation = 0                     # bumps on every (re)open
        self._init_thread: int | None = None
        self.last_error = ""
        self.noise: deque[tuple[float, str]] = deque(maxlen=256)
        self.stats = {"lines": 0, "events": 0, "noise": 0, "overlong": 0, "reconnects": 0, "timeouts": 0}
        self.lost_at: float | None = None
        self.up_at: float | None = None
        self.heard_at: float | None = None       # monotonic time of the device's last readable line

    # --- lifecycle -------------------------------------------------------------------

    def open(self, timeout: float = 5.0) -> None:
        """Start the link (if not started) and wait until it is ready: open and set up.

        Raises the reason it is not ready (``TransportError``, ``DeviceRejected``...) if it
        is not within ``timeout``; the link keeps retrying in the background until closed.
        """
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name=f"line:{self.name}", daemon=True)
                self._thread.start()
            failures = self._failures
            ok = self._lock.wait_for(lambda: self._ready or self._failures > failures, timeout)
            if self._ready:
                return
            reason = self.last_error or f"{self.name} not ready within {timeout:.1f} s"
            err = self._last_exc
        if ok and err is not None:
            raise err
        raise TransportError(reason)

    def close(self) -> None:
        self._stop.set()
        self.transport.interrupt()  # wakes the reader at once
        self.transport.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=3)
        self._thread = None
        self.transport.close()
        with self._lock:
            self._ready = False
            self._fail_pending(TransportClosed(f"{self.name} was closed"))

    @property
    def ready(self) -> bool:
        return self._ready

    def wait_ready(self, timeout: float) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: self._ready, timeout)

    def wait_lost(self, timeout: float) -> bool:
        """Wait until the link is down (for tests and benchmarks: no polling loop)."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._ready, timeout)

    def degraded(self, within_s: float | None = None) -> str:
        """A plain reason when noise or overlong lines were seen recently, else ``""``."""
        horizon = time.monotonic() - (self.noise_memory_s if within_s is None else within_s)
        recent = [what for at, what in list(self.noise) if at >= horizon]
        if not recent:
            return ""
        kinds = sorted(set(recent))
        return f"{len(recent)} garbled line(s) discarded on {self.name} ({', '.join(kinds)})"

    # --- sending ---------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Send one line (``eol`` appended) without waiting for anything."""
        self._gate(2.0)
        self._write(text + self.eol)

    def request(
        self,
        text: str | None,
        *,
        end: Callable[[str], bool],
        accept: Callable[[str], bool] | None = None,
        timeout: float = 2.0,
        eol: str | None = None,
    ) -> list[str]:
        """Send ``text`` and return the lines of its reply, ending with the one ``end``
        accepts. ``accept`` says which lines belong to the reply (default: all);
        the others go to ``on_event``. ``text=None`` sends nothing and only waits.

        Raises :class:`DeviceTimeout` when the reply does not end within ``timeout``
        and :class:`TransportClosed` when the link goes down meanwhile.
        """
        deadline = time.monotonic() + timeout
        self._gate(timeout)
        if not self._req_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise DeviceTimeout(f"{self.name}: busy with another request for {timeout:.1f} s")
        try:
            pending = _Pending(end, accept)
            with self._lock:
                self._pending = pending
                generation = self._generation
            try:
                if text is not None:
                    self._write(text + (self.eol if eol is None else eol))
                with self._lock:
                    done = self._lock.wait_for(
                        lambda: pending.done or pending.error is not None,
                        max(0.0, deadline - time.monotonic()),
                    )
                    if pending.error is not None:
                        raise pending.error
                    if not done:
                        self.stats["timeouts"] += 1
                        self._silent += 1
                        if self.desync_after and self._silent >= self.desync_after:
                            self._silent = 0
                            self._reset = (f"{self.name} stopped answering ({self.desync_after} requests "
                                           f"in a row without a reply)", 0.0)
                            self.transport.interrupt()
                        shown = text if text is not None else "the device"
                        got = f" (got only: {' | '.join(pending.lines[-3:])})" if pending.lines else ""
                        raise DeviceTimeout(f"{self.name}: no complete reply to {shown!r} within {timeout:.1f} s{got}")
                    self._silent = 0
                    if generation != self._generation:
                        raise TransportClosed(f"{self.name} reconnected during the request")
                    return list(pending.lines)
            finally:
                with self._lock:
                    if self._pending is pending:
                        self._pending = None
        finally:
            self._req_lock.release()

    def _gate(self, timeout: float) -> None:
        """Let a request through only when the link is ready (the set-up thread always)."""
        if threading.get_ident() == self._init_thread:
            return
        with self._lock:
            if self._stop.is_set() or self._thread is None:
                raise TransportClosed(f"{self.name} is not open")
            if not self._lock.wait_for(lambda: self._ready, min(timeout, 5.0)):
                raise TransportClosed(f"{self.name} is not connected ({self.last_error or 'reconnecting'})")

    def _write(self, text: str) -> None:
        try:
            self.transport.write(text.encode(self.encoding))
        except (TransportError, TypeError, ValueError, AttributeError) as exc:
            # TypeError & co: the reader closed the port under this write (pyserial is not
            # thread-safe there). Either way the link is down now, not at the reader's next turn.
            reason = f"{self.name} lost: {exc}"
            if threading.get_ident() != self._init_thread:
                self._lost(reason)
            raise TransportClosed(reason) from exc

    # --- the reader ------------------------------------------------------------------

    _failures = 0
    _last_exc: Exception | None = None
    _reset: tuple[str, float] | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._reset is not None:
                (reason, backoff), self._reset = self._reset, None
                self._lost(reason)
                self._stop.wait(backoff)
                continue
            if not self.transport.is_open:
                if self._ready:   # a failed write closed it under us
                    self._lost(self.last_error or f"{self.name} lost: the port closed")
                if not self._reopen():
                    continue
            try:
                # a long wait: close(), drop() and a failed login wake it (transport.interrupt)
                data = self.transport.read(READ_WAIT_S)
            except Exception as exc:  # never let the reader die, whatever the port does
                if self._stop.is_set():
                    break             # closed by us
                if not isinstance(exc, TransportError):
                    log.exception("%s: reader error", self.name)
                self._lost(f"{self.name} lost: {exc}")
                continue
            if data:
                self._feed(data)
        self.transport.close()

    def _reopen(self) -> bool:
        try:
            self.transport.open()
        except (TransportError, OSError) as exc:
            with self._lock:
                self.last_error = str(exc)
                self._last_exc = exc if isinstance(exc, DeviceError) else TransportError(str(exc))
                self._failures += 1
                self._lock.notify_all()
            self._stop.wait(self.reconnect_interval)
            return False
        with self._lock:
            self._buf.clear()
            self._skipping = False
            self._generation += 1
            generation = self._generation
            if self.up_at is not None or self.lost_at is not None:
                self.stats["reconnects"] += 1
        threading.Thread(target=self._setup, args=(generation,), name=f"line-setup:{self.name}", daemon=True).start()
        return True

    def _setup(self, generation: int) -> None:
        self._init_thread = threading.get_ident()
        try:
            if self.on_connect is not None:
                self.on_connect(self)
        except Exception as exc:
            self._init_thread = None
            reason = str(exc) or type(exc).__name__
            log.warning("%s: session set-up failed: %s", self.name, reason)
            with self._lock:
                if generation != self._generation:
                    return
                self.last_error = reason
                self._last_exc = exc if isinstance(exc, DeviceError) else DeviceError(reason)
                self._failures += 1
                self._lock.notify_all()
                # the reader closes the link and leaves it closed for a while
                # (a wrong password must not hammer the device)
                self._reset = (reason, self.retry_after_failure)
                self.transport.interrupt()
            return
        self._init_thread = None
        with self._lock:
            if generation != self._generation or not self.transport.is_open:
                return
            self._ready = True
            self.last_error = ""
            self._last_exc = None
            self.up_at = time.monotonic()
            self._lock.notify_all()
        self._notify_link(True, "")

    def _lost(self, reason: str) -> None:
        self.transport.close()
        with self._lock:
            was_ready = self._ready
            self._ready = False
            self.last_error = reason
            if self._last_exc is None or was_ready:
                self._last_exc = TransportClosed(reason)
            self.lost_at = time.monotonic()
            self._fail_pending(TransportClosed(reason))
        if was_ready:
            log.warning("%s", reason)
            self._notify_link(False, reason)

    def drop(self, reason: str) -> None:
        """Declare the stream out of step (a device that stopped answering): close the
        transport so the reader reopens it and runs the session set-up again."""
        if not self._stop.is_set():
            self._reset = (reason, 0.0)
            self.transport.interrupt()

    def _notify_link(self, up: bool, reason: str) -> None:
        if self.on_link is not None:
            try:
                self.on_link(up, reason)
            except Exception:
                log.exception("%s: link callback failed", self.name)

    def _fail_pending(self, exc: Exception) -> None:
        if self._pending is not None and not self._pending.done:
            self._pending.error = exc
        self._lock.notify_all()

    def _feed(self, data: bytes) -> None:
        events: list[str] = []
        with self._lock:
            self._buf += data
            term = self.terminator
            while True:
                idx = self._buf.find(term)
                if idx < 0:
                    break
                raw = bytes(self._buf[:idx])
                del self._buf[: idx + len(term)]
                if self._skipping:
                    self._skipping = False
                    continue
                if len(raw) > self.max_line:
                    self._noted("overlong line")
                    continue
                self._line(raw, events)
            if len(self._buf) > self.max_line:
                # an overlong line: throw it away and everything up to the next terminator
                self._buf.clear()
                if not self._skipping:
                    self._skipping = True
                    self._noted("overlong line")
            elif self._buf and self.prompts and not self._skipping:
                tail = self._buf.decode(self.encoding, "replace").strip()
                if tail and any(tail.endswith(p) for p in self.prompts):
                    self._buf.clear()
                    self._line(tail.encode(self.encoding), events)
        for line in events:
            if self.on_event is not None:
                try:
                    self.on_event(line)
                except Exception:
                    log.exception("%s: event handler failed on %r", self.name, line)

    def _line(self, raw: bytes, events: list[str]) -> None:
        text = raw.decode(self.encoding, "replace")
        noisy = list(_NOISE.finditer(text.rstrip("\r")))
        if noisy:
            text = text[noisy[-1].end():]   # resynchronise on what follows the last garbage
            self._noted("binary noise")
        if self.frame_start:
            start = text.rfind(self.frame_start.decode())
            if start < 0:
                if text.strip():
                    self._noted("text outside a frame")
                return
            text = text[start + len(self.frame_start):]
        text = text.strip()
        if not text:
            return
        self.stats["lines"] += 1
        self.heard_at = time.monotonic()
        pending = self._pending
        if pending is not None and not pending.done and pending.error is None and pending.accept(text):
            pending.lines.append(text)
            if pending.end(text):
                pending.done = True
                self._lock.notify_all()
            return
        self.stats["events"] += 1
        events.append(text)

    def _noted(self, what: str) -> None:
        self.stats["noise" if what != "overlong line" else "overlong"] += 1
        self.noise.append((time.monotonic(), what))
        log.info("%s: discarded %s", self.name, what)


class _Pending:
    __slots__ = ("end", "accept", "lines", "done", "error")

    def __init__(self, end, accept):
        self.end = end
        self.accept = accept or (lambda line: True)
        self.lines: list[str] = []
        self.done = False
        self.error: Exception | None = None


def login(
    client: LineClient,
    username: str | None,
    password: str,
    *,
    first_line: str | None,
    user_prompt: str = "login:",
    password_prompt: str = "Password:",
    success: Callable[[str], bool],
    failure: Callable[[str], bool] = lambda line: "incorrect" in line.lower() or "denied" in line.lower(),
    timeout: float = 3.0,
) -> bool:
    """Log in if (and only if) the device asks.

    Sends ``first_line`` (a harmless command, or ``""`` to wake the prompt) and follows
    the prompts: ``user_prompt`` gets ``username``, ``password_prompt`` gets ``password``.
    Returns True when a login took place, False when the device did not ask.
    Raises :class:`DeviceRejected` when the device refuses the credentials.
    """
    prompts = (user_prompt, password_prompt)

    def is_end(line: str) -> bool:
        return success(line) or failure(line) or any(line.endswith(p) for p in prompts if p)

    lines = client.request(first_line, end=is_end, timeout=timeout)
    logged_in = sent_user = False
    for _ in range(6):
        last = lines[-1]
        if success(last):
            return logged_in
        if failure(last):
            if sent_user:
                raise DeviceRejected(f"{client.name} refused the login for user {username!r}: {last}", "login")
            # our probe landed in a half-finished login (taken as a password): a fresh prompt follows
            lines = client.request(None, end=is_end, timeout=timeout)
            continue
        if user_prompt and last.endswith(user_prompt):
            if username is None:
                raise DeviceRejected(f"{client.name} asks for a user name and none is configured", "login")
            lines = client.request(username, end=is_end, timeout=timeout)
            sent_user = True
        elif last.endswith(password_prompt):
            lines = client.request(password, end=is_end, timeout=timeout)
            sent_user = True
        logged_in = True
    raise DeviceRejected(f"{client.name}: login did not complete (last answer {lines[-1]!r})", "login")


class LineDevice:
    """What every device driver on a :class:`LineClient` shares: open/close, link state
    and event listeners. ``open()`` waits for the link's session set-up."""

    def __init__(self, line: LineClient):
        self.line = line
        self._listeners: list[Callable[[dict], None]] = []

    def open(self, timeout: float = 8.0):
        self.line.open(timeout)
        return self

    def close(self) -> None:
        self.line.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def connected(self) -> bool:
        return self.line.ready

    def on_event(self, fn: Callable[[dict], None]) -> None:
        """Call ``fn(event_dict)`` on every change the device reports (``event["kind"]``)."""
        self._listeners.append(fn)

    def _emit(self, event: dict) -> None:
        for fn in list(self._listeners):
            try:
                fn(event)
            except Exception:
                log.exception("%s: event listener failed", self.line.name)


def build_driver(target: str, url: str, settings: dict, default_baud: int | None, default_port: int | None = None):
    """Instantiate ``"module:Class"`` on the transport named by ``url``; ``settings`` may
    carry ``baud``. Used by the per-family ``make_*`` factories."""
    baud = settings.pop("baud", settings.pop("baudrate", default_baud or 9600))
    if url.startswith(("tcp:", "udp:")):
        transport = transport_for_url(url, default_port=default_port)
    else:
        transport = transport_for_url(url, baudrate=baud)
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(transport, **settings)


_Device = TypeVar("_Device", bound="LineDevice")


def open_or_close(device: _Device, timeout: float) -> _Device:
    """Open ``device``; if it is not ready in ``timeout``, close it and raise the reason."""
    try:
        device.open(timeout)
    except Exception:
        device.close()
        raise
    return device
