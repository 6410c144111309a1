"""One controller per room, and the way to ask it things.

**The lock.** Whoever drives a room's devices (``vks-room run``, ``demo``, a stand-alone
``selftest``) first holds an exclusive ``flock`` on ``<data_dir>/vks-room.lock``. The
kernel drops it when the process ends, however it ends, so a ``kill -9`` leaves no stale
lock. The file says who holds it (``"<pid> <command>"``) for the refusal message; the
lock, not the text, is what counts. The file itself is never removed: removing a lock
file races with the next process that opens it.

**The control socket.** The running controller listens on ``<data_dir>/vks-room.sock``
(a Unix-domain socket, mode 0660: the service user and its group). One request per
connection: one line of JSON, at most :data:`MAX_REQUEST` bytes, within
:data:`REQUEST_TIMEOUT_S`; one line of JSON back, then the connection closes::

    -> {"request": "readiness"}
    <- {"ok": true, "result": {...}}
    -> {"request": "selftest", "timeout": 60}
    <- {"ok": false, "code": "refused", "error": "VKS is suspended (...): no tests until resumed"}

What each request does is given by the caller (``app.py`` wires the controller's public
methods); this module knows only the lock, the socket and the framing.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import select
import socket
import threading
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

LOCK_FILE = "vks-room.lock"
SOCKET_FILE = "vks-room.sock"
MAX_REQUEST = 4096            # bytes of one request line
MAX_REPLY = 8 * 1024 * 1024   # bytes of one answer the client accepts
REQUEST_TIMEOUT_S = 5.0       # for the request line to arrive, and for the answer to be taken
MAX_CLIENTS = 4               # requests served at once; more are told to come back
CONNECT_GRACE_S = 5.0         # a client waits this long for a controller that is still starting

# What the error codes of an answer mean: the controller said no (refused), its self-test
# ran out of time (timeout), the request was wrong (bad_request), too many at once (busy),
# it failed (internal).
REFUSED, TIMEOUT, BAD_REQUEST, BUSY, INTERNAL = "refused", "timeout", "bad_request", "busy", "internal"


class InstanceError(Exception):
    """Something about the room's lock or control socket, said in a plain sentence."""


class RoomBusy(InstanceError):
    """Another process holds the room's lock."""

    def __init__(self, data_dir: Path, pid: int | None, command: str | None):
        self.data_dir, self.pid, self.command = data_dir, pid, command
        who = f"vks-room {command}" if command else "another vks-room"
        super().__init__(f"the room in {data_dir} is already held by {who}{f' (pid {pid})' if pid else ''}")


class NoAnswer(InstanceError):
    """Nothing answered on the control socket, or it stopped before answering."""


class Refused(InstanceError):
    """The running controller answered, and its answer was an error."""

    def __init__(self, message: str, code: str):
        self.code = code
        super().__init__(message)


class BadRequest(ValueError):
    """Raised by a request handler when the request's arguments are wrong."""


# -- the lock -------------------------------------------------------------------------


class RoomLock:
    """The exclusive lock on a room's data directory; :meth:`acquire` or :class:`RoomBusy`."""

    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_FILE
        self._fd: int | None = None
        self._writable = False

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, command: str) -> "RoomLock":
        """Take the lock for ``command`` (run, demo, selftest) at once, or raise RoomBusy."""
        if self._fd is not None:
            return self
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd, writable = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o640), True
            except PermissionError:   # made by another user: a read-only descriptor locks as well
                fd, writable = os.open(self.path, os.O_RDONLY), False
        except OSError as exc:
            raise InstanceError(f"cannot use the data directory {self.data_dir}: {_plain(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, holder = _holder(fd)
            os.close(fd)
            raise RoomBusy(self.data_dir, pid, holder) from None
        except OSError as exc:
            os.close(fd)
            raise InstanceError(f"cannot lock {self.path}: {_plain(exc)}") from None
        self._fd, self._writable = fd, writable
        self._say(f"{os.getpid()} {command}\n")
        return self

    def release(self) -> None:
        """Let the room go (also done by the kernel when the process ends). Idempotent."""
        if self._fd is None:
            return
        self._say("")   # nobody holds it: the file no longer names a process
        fd, self._fd = self._fd, None
        os.close(fd)    # closing the last descriptor drops the flock

    def __enter__(self) -> "RoomLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def _say(self, text: str) -> None:
        fd = self._fd
        if fd is None or not self._writable:
            return
        data = text.encode()
        try:
            os.pwrite(fd, data, 0)
            os.ftruncate(fd, len(data))
        except OSError:
            pass   # the text is for the refusal message only; the lock holds regardless


def _holder(fd: int) -> tuple[int | None, str | None]:
    """(pid, command) from the lock file's text; (None, None) when it says nothing usable."""
    try:
        words = os.pread(fd, 200, 0).decode("ascii", "replace").split()
        return int(words[0]), (words[1] if len(words) > 1 else None)
    except (OSError, ValueError, IndexError):
        return None, None


def _plain(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


# -- the socket: both sides -------------------------------------------------------------


@contextlib.contextmanager
def _unix_name(path: Path):
    """A name for ``path`` that fits AF_UNIX's 108 bytes: the path itself, or, for a deep
    data directory, the path through an open descriptor of its folder (Linux)."""
    if len(os.fsencode(path)) < 100:
        yield str(path)
        return
    fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        yield f"/proc/self/fd/{fd}/{path.name}"
    finally:
        os.close(fd)


def _read_line(conn: socket.socket, limit: int, timeout: float) -> bytes | None:
    """Bytes up to the first newline, all within ``timeout`` s (socket.timeout otherwise,
    however slowly they trickle); None when more than ``limit`` bytes come without one."""
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        conn.settimeout(left)
        chunk = conn.recv(min(65536, limit + 1 - len(data)))
        if not chunk:
            break
        data += chunk
        if len(data) > limit and b"\n" not in data:
            return None
    return data.split(b"\n", 1)[0]


def _send(conn: socket.socket, doc: dict) -> None:
    conn.sendall(json.dumps(doc, ensure_ascii=False, default=str).encode("utf-8") + b"\n")


class ControlServer:
    """The running controller's control socket. ``handlers`` maps a request name to a
    function of the request (a dict) returning the result; it may raise BadRequest,
    ValueError (the controller said no) or TimeoutError. Only the holder of the room's
    lock may serve it: :meth:`bind` replaces whatever socket file a dead one left."""

    def __init__(self, data_dir: str | Path, handlers: dict[str, Callable[[dict], object]],
                 max_clients: int = MAX_CLIENTS, request_timeout: float = REQUEST_TIMEOUT_S):
        self.path = Path(data_dir) / SOCKET_FILE
        self.handlers = dict(handlers)
        self.request_timeout = request_timeout
        self._slots = threading.BoundedSemaphore(max_clients)
        self._sock: socket.socket | None = None
        self._inode: int | None = None
        self._wake: tuple[int, int] | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()

    def bind(self) -> "ControlServer":
        """Create the socket file now (mode 0660); connections wait until :meth:`start`."""
        tmp = self.path.with_name(self.path.name + ".new")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            with _unix_name(tmp) as name:
                sock.bind(name)
            os.chmod(tmp, 0o660)          # before it takes the name clients use
            sock.listen(8)
            os.replace(tmp, self.path)    # atomically over a dead controller's socket file
            self._inode = os.stat(self.path).st_ino
        except OSError as exc:
            sock.close()
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise InstanceError(f"cannot open the control socket {self.path}: {_plain(exc)}") from None
        self._sock = sock
        return self

    def start(self) -> "ControlServer":
        if self._sock is None:
            self.bind()
        sock = self._sock
        assert sock is not None, "bind() sets it or raises"
        self._wake = os.pipe()
        self._thread = threading.Thread(target=self._accept_loop, args=(sock, self._wake[0]), name="control",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering: no new request; those under way are cut off; the file goes."""
        if self._wake is not None:
            os.write(self._wake[1], b"x")
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        with self._lock:
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._inode is not None:
            with contextlib.suppress(OSError):
                if os.stat(self.path).st_ino == self._inode:   # still ours, not a successor's
                    self.path.unlink()
            self._inode = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._wake is not None:
            for fd in self._wake:
                os.close(fd)
            self._wake = None

    def _accept_loop(self, sock: socket.socket, wake: int) -> None:
        while True:
            try:
                watched: list[socket.socket | int] = [sock, wake]
                ready, _, _ = select.select(watched, [], [])
                if wake in ready:
                    return
                conn, _ = sock.accept()
            except (OSError, ValueError):
                return
            if not self._slots.acquire(blocking=False):
                with conn, contextlib.suppress(OSError):
                    conn.settimeout(1.0)
                    _send(conn, {"ok": False, "code": BUSY,
                                 "error": "the controller is answering other requests; ask again shortly"})
                continue
            with self._lock:
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), name="control-request", daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            try:
                reply = self._answer(_read_line(conn, MAX_REQUEST, self.request_timeout))
            except socket.timeout:
                reply = _error(BAD_REQUEST, f"no complete request within {self.request_timeout:g} s")
            conn.settimeout(self.request_timeout)
            _send(conn, reply)
            _drain(conn)
        except OSError:
            pass   # the client went away (or we are stopping): nobody to answer
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()
            self._slots.release()

    def _answer(self, line: bytes | None) -> dict:
        if line is None:
            return _error(BAD_REQUEST, f"a request is one line of at most {MAX_REQUEST} bytes")
        try:
            request = json.loads(line)
        except ValueError:
            return _error(BAD_REQUEST, "a request is one line of JSON")
        name = request.get("request") if isinstance(request, dict) else None
        handler = self.handlers.get(name) if isinstance(name, str) else None
        if handler is None:
            return _error(BAD_REQUEST, f"unknown request; use one of: {', '.join(sorted(self.handlers))}")
        try:
            return {"ok": True, "result": handler(request)}
        except BadRequest as exc:
            return _error(BAD_REQUEST, str(exc))
        except ValueError as exc:
            return _error(REFUSED, str(exc))
        except TimeoutError as exc:
            return _error(TIMEOUT, str(exc))
        except Exception:
            log.exception("control socket: %s failed", name)
            return _error(INTERNAL, f"the controller failed to answer {name}; its log says why")


def _drain(conn: socket.socket, limit: int = 65536) -> None:
    """Read what is left of an over-long request, so that closing does not reset the
    connection before the client has read our answer."""
    conn.setblocking(False)
    with contextlib.suppress(OSError):
        while limit > 0 and (chunk := conn.recv(min(limit, 65536))):
            limit -= len(chunk)


def _error(code: str, message: str) -> dict:
    return {"ok": False, "code": code, "error": message}


def ask(data_dir: str | Path, request: str, timeout: float, grace: float = CONNECT_GRACE_S, **fields):
    """Ask the room's running controller; returns the result. Raises NoAnswer when nothing
    answers (waiting up to ``grace`` s for a socket still being made) and Refused when the
    answer is an error."""
    path = Path(data_dir) / SOCKET_FILE
    give_up = time.monotonic() + grace
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(max(1.0, min(grace, REQUEST_TIMEOUT_S)))
        try:
            with _unix_name(path) as name:
                sock.connect(name)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() >= give_up:
                raise NoAnswer(f"nothing answers on the control socket {path}") from None
            time.sleep(0.1)   # the controller is starting: its socket comes in a moment
        except OSError as exc:
            sock.close()
            raise NoAnswer(f"cannot reach the control socket {path}: {_plain(exc)}") from None
    with sock:
        try:
            sock.settimeout(REQUEST_TIMEOUT_S)
            _send(sock, {"request": request, **fields})
            line = _read_line(sock, MAX_REPLY, timeout)
        except socket.timeout:
            raise NoAnswer(f"the controller gave no answer within {timeout:g} s") from None
        except OSError as exc:
            raise NoAnswer(f"the control socket {path} failed: {_plain(exc)}") from None
    if line is None:
        raise NoAnswer(f"the controller's answer was longer than {MAX_REPLY} bytes")
    try:
        doc = json.loads(line) if line else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise NoAnswer("the controller closed the control socket without an answer")
    if not doc.get("ok"):
        raise Refused(str(doc.get("error") or "the controller refused"), str(doc.get("code") or INTERNAL))
    return doc.get("result")
