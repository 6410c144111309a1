"""Reading an MJPEG-over-HTTP stream ourselves: bytes in, the newest JPEG out, no decoding.

IP cameras and capture boxes serve ``multipart/x-mixed-replace`` JPEG over HTTP. Going
through ``cv2.VideoCapture`` (FFmpeg) decodes and converts every part, though we judge two
a second: for three 1080p streams at 25 fps that alone is more than half a core. Here a
thread per source reads the socket, splits the parts (by ``Content-Length`` when the part
says it, else by the boundary), keeps the newest JPEG's bytes, and nothing is decoded until
someone asks for a picture; then :func:`decode` decodes at a reduced size (libjpeg scales
in the DCT, so a half-size decode costs less than half).

Only plain ``http://`` URLs (``user:password@`` becomes Basic authentication). Anything
that is not a multipart stream raises :class:`NotMjpeg`, so the caller can fall back to
``cv2.VideoCapture``.
"""
from __future__ import annotations

import base64
import socket
import struct
from urllib.parse import unquote, urlsplit

from vksroom.drivers.video.cv import cv2
import numpy as np

from vksroom.drivers.errors import ProtocolError, TransportError

MAX_PART = 32 * 1024 * 1024       # a JPEG larger than this is not a camera frame
MAX_HEADER_LINE = 8192
MAX_HEADERS = 64
CHUNK = 64 * 1024


class NotMjpeg(TransportError):
    """The URL answered, but not with a multipart JPEG stream."""


def is_http(url: str) -> bool:
    return isinstance(url, str) and url.strip().lower().startswith("http://")


class MjpegStream:
    """One HTTP connection to an MJPEG URL. ``open()``, then iterate :meth:`parts`."""

    def __init__(self, url: str, open_timeout_s: float = 5.0, read_timeout_s: float = 5.0):
        u = urlsplit(url.strip())
        if u.scheme.lower() != "http" or not u.hostname:
            raise NotMjpeg(f"{url!r}: only http:// URLs are read as MJPEG")
        self.url = url
        self.host, self.port = u.hostname, u.port or 80
        self.target = (u.path or "/") + (f"?{u.query}" if u.query else "")
        self.auth = (unquote(u.username or ""), unquote(u.password or "")) if u.username else None
        self.open_timeout_s, self.read_timeout_s = open_timeout_s, read_timeout_s
        self.boundary = b""
        self._sock: socket.socket | None = None
        self._rfile: _Reader | None = None
        self._closed = False

    def open(self) -> "MjpegStream":
        try:
            self._open()
        except BaseException:
            self.close()
            raise
        return self

    def _open(self) -> None:
        try:
            # a local name: close() from another thread (a source stopping) may clear
            # self._sock at any moment; it then shuts this socket, and reads here fail
            sock = socket.create_connection((self.host, self.port), timeout=self.open_timeout_s)
            self._sock = sock
            if self._closed:
                raise OSError("closed while connecting")
            sock.settimeout(self.read_timeout_s)
            req = [f"GET {self.target} HTTP/1.0", f"Host: {self.host}:{self.port}", "User-Agent: vksroom",
                   "Accept: multipart/x-mixed-replace, image/jpeg"]
            if self.auth:
                token = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
                req.append(f"Authorization: Basic {token}")
            sock.sendall(("\r\n".join(req) + "\r\n\r\n").encode("latin-1"))
            self._rfile = _Reader(sock, self.url)
            status = self._line()
            parts = status.split(None, 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
                raise NotMjpeg(f"{self.url!r} did not answer HTTP (got {status[:40]!r})")
            headers = self._headers()
        except OSError as exc:
            raise TransportError(f"cannot open video source {self.url!r}: {exc}") from exc
        code = int(parts[1])
        if code != 200:
            why = parts[2].decode("latin-1", "replace").strip() if len(parts) > 2 else ""
            raise TransportError(f"cannot open video source {self.url!r}: HTTP {code} {why}".rstrip())
        ctype = headers.get("content-type", "")
        boundary = _boundary(ctype)
        if not ctype.lower().startswith("multipart/") or not boundary:
            raise NotMjpeg(f"{self.url!r} is not an MJPEG stream (Content-Type {ctype or 'missing'!r})")
        self.boundary = boundary.encode("latin-1").lstrip(b"-")

    def close(self) -> None:
        """Close the connection; a reader blocked in :meth:`parts` or :meth:`open`
        returns at once. A closed stream stays closed: make a new one to reconnect."""
        self._closed = True
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    # -- parsing
    def _reader(self) -> _Reader:
        if self._rfile is None:
            raise TransportError(f"{self.url!r}: read before open()")
        return self._rfile

    def _line(self) -> bytes:
        line = self._reader().readline(MAX_HEADER_LINE)
        if line is None:
            raise ProtocolError(f"{self.url!r}: header line longer than {MAX_HEADER_LINE} bytes")
        return line

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS):
            line = self._line().strip()
            if not line:
                return headers
            name, sep, value = line.partition(b":")
            if sep:
                headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        raise ProtocolError(f"{self.url!r}: more than {MAX_HEADERS} header lines")

    def parts(self):
        """Yield each part's body (the JPEG bytes) as it arrives. Raises TransportError when
        the connection ends or stalls (read timeout), ProtocolError on garbage."""
        try:
            yield from self._parts()
        except (socket.timeout, TimeoutError) as exc:
            raise TransportError(f"{self.url!r}: no data for {self.read_timeout_s:g} s") from exc
        except OSError as exc:
            raise TransportError(f"{self.url!r}: connection lost ({exc})") from exc

    def _parts(self):
        delimiter = b"--" + self.boundary
        at_headers = False          # True when a body read without Content-Length ate the delimiter
        while True:
            if not at_headers:
                for _ in range(MAX_HEADERS):  # the delimiter line, after the CRLF that ends a body
                    if self._line().strip().lstrip(b"-").startswith(self.boundary):
                        break
                else:
                    raise ProtocolError(f"{self.url!r}: no multipart boundary in the stream")
            headers = self._headers()
            length = headers.get("content-length", "")
            if length:
                if not length.isdigit() or int(length) > MAX_PART:
                    raise ProtocolError(f"{self.url!r}: bad part length {length[:20]!r}")
                body = self._reader().read(int(length))
                at_headers = False
            else:
                until = self._reader().read_until(b"\r\n" + delimiter, MAX_PART)
                if until is None:
                    raise ProtocolError(f"{self.url!r}: no boundary within {MAX_PART} bytes")
                body = until
                self._line()            # the rest of the delimiter line
                at_headers = True
            yield body


class _Reader:
    """Buffered reads from a socket: lines, exact lengths, up to a delimiter.
    Raises TransportError when the far end closes."""

    def __init__(self, sock: socket.socket, url: str):
        self.sock, self.url = sock, url
        self.buf = bytearray()

    def _fill(self) -> None:
        chunk = self.sock.recv(CHUNK)
        if not chunk:
            raise TransportError(f"{self.url!r}: the stream ended")
        self.buf += chunk

    def readline(self, limit: int) -> bytes | None:
        """One line with its newline; None when no newline comes within ``limit`` bytes."""
        start = 0
        while True:
            k = self.buf.find(b"\n", start)
            if k >= 0:
                line = bytes(self.buf[:k + 1])
                del self.buf[:k + 1]
                return line
            if len(self.buf) > limit:
                return None
            start = len(self.buf)
            self._fill()

    def read(self, n: int) -> bytes:
        if len(self.buf) >= n:
            out = bytes(self.buf[:n])
            del self.buf[:n]
            return out
        whole = bytearray(n)
        view = memoryview(whole)
        have = len(self.buf)
        view[:have] = self.buf
        self.buf.clear()
        while have < n:
            got = self.sock.recv_into(view[have:])
            if not got:
                raise TransportError(f"{self.url!r}: the stream ended inside a picture")
            have += got
        return bytes(whole)

    def read_until(self, delimiter: bytes, limit: int) -> bytes | None:
        """The bytes before ``delimiter`` (which is consumed); None past ``limit`` bytes."""
        start = 0
        while True:
            k = self.buf.find(delimiter, start)
            if k >= 0:
                out = bytes(self.buf[:k])
                del self.buf[:k + len(delimiter)]
                return out
            if len(self.buf) > limit:
                return None
            start = max(0, len(self.buf) - len(delimiter))
            self._fill()


def _boundary(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "boundary":
            return value.strip().strip('"')
    return ""


# ---------------------------------------------------------------- decoding
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's frame header, without decoding; None if not found."""
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:              # fill byte
            i += 1
            continue
        seg = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in _SOF:
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return (w, h) if w and h else None
        if marker == 0xDA or seg < 2:   # scan data before any frame header: give up
            return None
        i += 2 + seg
    return None


_REDUCED = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
            8: cv2.IMREAD_REDUCED_COLOR_8}


def reduction_for(size: tuple[int, int] | None, min_edge: int) -> int:
    """The largest libjpeg reduction (1, 2, 4, 8) that keeps the long edge >= ``min_edge``."""
    if not size:
        return 1
    long_edge = max(size)
    return max((f for f in _REDUCED if long_edge // f >= min_edge), default=1)


def decode(data: bytes, reduce: int = 1) -> np.ndarray | None:
    """Decode JPEG bytes to BGR at 1/``reduce`` of the size (1, 2, 4 or 8); None if undecodable."""
    if not data:
        return None
    img = cv2.imdecode(np.frombuffer(data, np.uint8), _REDUCED[reduce])
    return img if img is not None and img.size else None
