"""Byte transports: the layer under every protocol.

As gpiozero swaps pin factories under one device API, a driver here is handed a
:class:`Transport` and never learns whether a UDP socket, a TCP stream, a real serial
port or a pseudo-terminal is under it. :class:`MockTransport` plays the role of
gpiozero's ``MockFactory`` in unit tests: it records what was written and answers
through a responder.

Contract:

* ``write(data)`` sends bytes, raising :class:`TransportError` when the link is gone.
* ``read(timeout)`` returns the bytes available (one datagram for UDP), ``b""`` when
  nothing arrived within ``timeout`` seconds, and raises :class:`TransportClosed`
  when the far end went away (pty closed, TCP reset, USB adapter pulled).
* ``open()`` may be called again after a failure: that is how drivers reconnect.
"""
from __future__ import annotations

import collections
import os
import select
import socket
import threading
import urllib.parse
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    import serial

from vksroom.drivers.errors import ConfigError, TransportClosed, TransportError


class Transport(ABC):
    """A bidirectional byte pipe to one device."""

    datagram = False  # True when each read() returns exactly one whole packet

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @property
    @abstractmethod
    def is_open(self) -> bool: ...

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    @abstractmethod
    def read(self, timeout: float) -> bytes: ...

    def describe(self) -> str:
        return type(self).__name__

    def interrupt(self) -> None:
        """Make a ``read`` waiting in another thread return (b"") now; a no-op where reads are short."""

    def __enter__(self):
        self.open()
        return self

    def __exit__(self, *exc):
        self.close()


class UdpTransport(Transport):
    """One UDP peer. Datagrams from any other address are ignored."""

    datagram = True

    def __init__(self, host: str, port: int, local_port: int = 0):
        self.peer = (host, int(port))
        self.local_port = local_port
        self._sock: socket.socket | None = None

    def open(self) -> None:
        self.close()
        try:
            addr = socket.getaddrinfo(self.peer[0], self.peer[1], type=socket.SOCK_DGRAM)[0]
            sock = socket.socket(addr[0], socket.SOCK_DGRAM)
            sock.bind(("", self.local_port))
        except OSError as exc:
            raise TransportError(f"cannot open UDP socket to {self.describe()}: {exc}") from exc
        self.peer = (str(addr[4][0]), int(addr[4][1]))   # an IPv6 sockaddr has four parts
        self._sock = sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def write(self, data: bytes) -> None:
        if self._sock is None:
            raise TransportClosed(f"UDP link to {self.describe()} is not open")
        try:
            self._sock.sendto(data, self.peer)
        except OSError as exc:
            raise TransportError(f"cannot send to {self.describe()}: {exc}") from exc

    def read(self, timeout: float) -> bytes:
        sock = self._sock
        if sock is None:
            raise TransportClosed(f"UDP link to {self.describe()} is not open")
        while True:
            ready, _, _ = select.select([sock], [], [], max(0.0, timeout))
            if not ready:
                return b""
            try:
                data, addr = sock.recvfrom(65535)
            except ConnectionRefusedError:
                # ICMP port unreachable from an earlier send: the device is not listening.
                return b""
            except OSError as exc:
                raise TransportError(f"cannot receive from {self.describe()}: {exc}") from exc
            if addr[:2] == self.peer:
                return data
            timeout = 0.0  # a stray datagram: look once more without waiting

    def describe(self) -> str:
        return f"udp://{self.peer[0]}:{self.peer[1]}"


class _Wakeup:
    """A self-pipe: a reader's ``select`` also watches it, so another thread can end the wait at
    once (closing the fd under a select does not wake it), and a reader can wait long instead of
    waking several times a second to look at its flags."""

    def __init__(self):
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)
        os.set_blocking(self._w, False)

    def fileno(self) -> int:
        return self._r

    def set(self) -> None:
        try:
            os.write(self._w, b"!")
        except (BlockingIOError, OSError):   # full already: the reader wakes anyway
            pass

    def clear(self) -> None:
        try:
            while os.read(self._r, 512):
                pass
        except (BlockingIOError, OSError):
            pass

    def __del__(self):
        for fd in (getattr(self, "_r", None), getattr(self, "_w", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass


class TcpTransport(Transport):
    """A TCP byte stream (raw VISCA, Shure command strings, telnet-style devices)."""

    def __init__(self, host: str, port: int, connect_timeout: float = 2.0):
        self.host, self.port = host, int(port)
        self.connect_timeout = connect_timeout
        self._sock: socket.socket | None = None
        self._wakeup = _Wakeup()

    def open(self) -> None:
        self.close()
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout)
        except OSError as exc:
            raise TransportError(f"cannot connect to {self.describe()}: {exc}") from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None
                self._wakeup.set()   # as for serial: a reader in select() on it must find it closed

    @property
    def is_open(self) -> bool:
        return self._sock is not None

    def write(self, data: bytes) -> None:
        if self._sock is None:
            raise TransportClosed(f"{self.describe()} is not connected")
        try:
            self._sock.sendall(data)
        except OSError as exc:
            self.close()
            raise TransportClosed(f"connection to {self.describe()} lost: {exc}") from exc

    def read(self, timeout: float) -> bytes:
        sock = self._sock
        if sock is None:
            raise TransportClosed(f"{self.describe()} is not connected")
        wake = self._wakeup.fileno()
        ready, _, _ = select.select([sock.fileno(), wake], [], [], max(0.0, timeout))
        if wake in ready:
            self._wakeup.clear()
        if sock.fileno() not in ready:
            return b""
        try:
            data = sock.recv(65536)
        except OSError as exc:
            self.close()
            raise TransportClosed(f"connection to {self.describe()} lost: {exc}") from exc
        if not data:
            self.close()
            raise TransportClosed(f"{self.describe()} closed the connection")
        return data

    def interrupt(self) -> None:
        self._wakeup.set()

    def describe(self) -> str:
        return f"tcp://{self.host}:{self.port}"


class SerialTransport(Transport):
    """A serial port through pyserial: a real RS-232/422 adapter, a stable
    ``/dev/serial/by-id/...`` path, or a pseudo-terminal in tests.

    8N1, no flow control unless told otherwise. When the adapter is pulled the next
    read or write raises :class:`TransportClosed`; ``open()`` again once it is back.
    """

    def __init__(self, port: str, baudrate: int = 9600, **settings):
        self.port = port
        self.baudrate = int(baudrate)
        self.settings = settings
        self._serial: serial.Serial | None = None
        self._wakeup = _Wakeup()

    def open(self) -> None:
        import serial  # pyserial

        self.close()
        try:
            self._serial = serial.serial_for_url(
                self.port, baudrate=self.baudrate, timeout=0, write_timeout=2, **self.settings
            )
        except (serial.SerialException, OSError, ValueError) as exc:
            raise TransportError(f"cannot open serial port {self.port}: {exc}") from exc

    def close(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except Exception:  # closing a port whose adapter vanished may fail: it is closed anyway
                pass
            self._serial = None
            # a reader waiting in select() on the closed fd would not see it (and the number may
            # be reused at once by the next open): wake it so it finds the port closed
            self._wakeup.set()

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def write(self, data: bytes) -> None:
        import serial

        if self._serial is None:
            raise TransportClosed(f"serial port {self.port} is not open")
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise TransportClosed(f"serial port {self.port} lost: {exc}") from exc

    def read(self, timeout: float) -> bytes:
        import serial

        ser = self._serial
        if ser is None:
            raise TransportClosed(f"serial port {self.port} is not open")
        try:
            fd = ser.fileno()
        except Exception:
            fd = None
        try:
            if fd is not None:
                wake = self._wakeup.fileno()
                ready, _, _ = select.select([fd, wake], [], [], max(0.0, timeout))
                if wake in ready:
                    self._wakeup.clear()
                if fd not in ready:
                    return b""
                data = ser.read(ser.in_waiting or 1)
                if not data:
                    # readable but empty: the other side of the pty or the USB device is gone
                    raise serial.SerialException("device reports readiness to read but returned no data")
                return data
            ser.timeout = max(0.0, timeout)
            return ser.read(max(1, ser.in_waiting))
        except (serial.SerialException, OSError) as exc:
            self.close()
            raise TransportClosed(f"serial port {self.port} lost: {exc}") from exc

    def interrupt(self) -> None:
        self._wakeup.set()

    def describe(self) -> str:
        return f"serial:{self.port}@{self.baudrate}"


class MockTransport(Transport):
    """An in-memory transport for unit tests, in the spirit of gpiozero's MockFactory.

    ``written`` records every write; ``feed(data)`` queues bytes for ``read``;
    ``responder(data) -> bytes | None`` answers writes automatically; ``unplug()`` makes
    the next read/write raise :class:`TransportClosed` until ``open()`` is called again.
    """

    def __init__(self, responder: Callable[[bytes], bytes | None] | None = None, datagram: bool = False):
        self.datagram = datagram
        self.responder = responder
        self.written: list[bytes] = []
        self._incoming: collections.deque[bytes] = collections.deque()
        self._cond = threading.Condition()
        self._open = False
        self._unplugged = False
        self._interrupted = False

    def open(self) -> None:
        with self._cond:
            if self._unplugged:
                raise TransportError("mock device is unplugged")
            self._open = True

    def close(self) -> None:
        with self._cond:
            self._open = False
            self._cond.notify_all()

    @property
    def is_open(self) -> bool:
        return self._open

    def feed(self, data: bytes) -> None:
        with self._cond:
            self._incoming.append(bytes(data))
            self._cond.notify_all()

    def unplug(self) -> None:
        with self._cond:
            self._unplugged = True
            self._open = False
            self._cond.notify_all()

    def replug(self) -> None:
        with self._cond:
            self._unplugged = False

    def write(self, data: bytes) -> None:
        with self._cond:
            if not self._open:
                raise TransportClosed("mock transport is closed")
            self.written.append(bytes(data))
        if self.responder is not None:
            reply = self.responder(bytes(data))
            if reply:
                self.feed(reply)

    def interrupt(self) -> None:
        with self._cond:
            self._interrupted = True
            self._cond.notify_all()

    def read(self, timeout: float) -> bytes:
        with self._cond:
            if not self._cond.wait_for(lambda: self._incoming or not self._open or self._interrupted,
                                       timeout=max(0.0, timeout)) or not (self._incoming or not self._open):
                self._interrupted = False
                return b""
            if not self._open:
                raise TransportClosed("mock transport is closed")
            if self.datagram:
                return self._incoming.popleft()
            data = b"".join(self._incoming)
            self._incoming.clear()
            return data


def transport_for_url(url: str, default_port: int | None = None, **settings) -> Transport:
    """Build a transport from ``udp://host:port``, ``tcp://host:port``,
    ``serial:///dev/ttyUSB0?baud=9600`` or a plain device path (``/dev/serial/by-id/...``).

    Raises :class:`ConfigError` naming what is wrong with the URL.
    """
    if url.startswith("/"):
        return SerialTransport(url, **settings)
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    if parts.scheme in ("udp", "tcp"):
        if not parts.hostname:
            raise ConfigError(f"{url!r}: no host")
        try:
            port = parts.port or default_port
        except ValueError:
            raise ConfigError(f"{url!r}: the port is not a number from 1 to 65535") from None
        if not port:
            raise ConfigError(f"{url!r}: no port")
        cls = UdpTransport if parts.scheme == "udp" else TcpTransport
        return cls(parts.hostname, port)
    if parts.scheme == "serial":
        if not parts.path:
            raise ConfigError(f"{url!r}: no device path")
        baud = query.pop("baud", settings.pop("baudrate", 9600))
        try:
            baud = int(baud)
        except ValueError:
            raise ConfigError(f"{url!r}: baud must be a number") from None
        return SerialTransport(parts.path, baudrate=baud, **settings)
    raise ConfigError(f"{url!r}: unknown transport {parts.scheme!r} (use udp://, tcp://, serial:// or a /dev path)")
