"""One HTTP(S) connection to a camera, one SOAP request at a time, failures as driver errors.

The connection is kept open between requests (HTTP/1.1 keep-alive). A camera may close an
idle connection at any moment; a request that fails on a connection used before is sent
once more on a new one, but only when sending it twice does no harm (``idempotent``): a
relative move or a new preset goes on a fresh connection instead, so that a failure is
never ambiguous.
"""
from __future__ import annotations

import http.client
import socket
import ssl
import threading
from typing import Callable

from vksroom.drivers.errors import DeviceTimeout, ProtocolError, TransportClosed, TransportError
from vksroom.drivers.onvif.soap import MAX_REPLY

CONTENT_TYPE = 'application/soap+xml; charset=utf-8; action="{}"'


class HttpLink:
    def __init__(self, scheme: str, host: str, port: int, timeout_s: float = 5.0,
                 tls: ssl.SSLContext | None = None):
        self.scheme, self.host, self.port = scheme, host, port
        self.timeout_s = timeout_s
        self.tls = tls
        self.lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._used = 0              # requests answered on the current connection
        self._stale = False         # the request under way went on a connection used before
        self.shut = False

    def describe(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def _connect(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout_s, context=self.tls)
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)

    def post(self, path: str, soap_action: str, body: bytes | Callable[[], bytes],
             idempotent: bool = True) -> tuple[int, str, bytes]:
        """POST ``body`` (or what ``body()`` makes: each attempt its own, so a request sent again
        over a fresh connection carries a fresh security nonce, not a replay the camera refuses);
        ``(status, reason, reply bytes)``. Raises TransportError (link), DeviceTimeout (no answer
        in time) or ProtocolError (not HTTP)."""
        make = body if callable(body) else (lambda: body)
        with self.lock:
            if self.shut:
                raise TransportClosed(f"{self.describe()}: the link is closed")
            if not idempotent:
                self._drop()
            try:
                try:
                    return self._exchange(path, soap_action, make())
                except TransportError:
                    if not (idempotent and self._stale) or self.shut:
                        raise
                return self._exchange(path, soap_action, make())   # the camera had closed an idle connection
            except (TransportError, ProtocolError, DeviceTimeout):
                if self.shut:     # close() from another thread cut this request short
                    raise TransportClosed(f"{self.describe()}: the link was closed during the request") from None
                raise

    def _exchange(self, path: str, soap_action: str, body: bytes) -> tuple[int, str, bytes]:
        where = f"{self.describe()}{path}"
        self._stale = self._conn is not None and self._used > 0
        if self._conn is None:
            self._conn, self._used = self._connect(), 0
        conn = self._conn
        try:
            conn.request("POST", path, body, {"Content-Type": CONTENT_TYPE.format(soap_action),
                                              "Connection": "keep-alive"})
            resp = conn.getresponse()
            if resp.length is not None and resp.length > MAX_REPLY:
                raise ProtocolError(f"{where}: reply of {resp.length} bytes is too large for a SOAP answer")
            # with a length, read() raises IncompleteRead when the body is cut short (read(n) would not)
            data = resp.read() if resp.length is not None else resp.read(MAX_REPLY + 1)
            if len(data) > MAX_REPLY:
                raise ProtocolError(f"{where}: reply is too large for a SOAP answer")
            if resp.will_close:
                self._drop()
            else:
                self._used += 1
            return resp.status, resp.reason, data
        except (TimeoutError, socket.timeout):
            self._drop()
            raise DeviceTimeout(f"{where}: no answer within {self.timeout_s:g} s") from None
        except ProtocolError:
            self._drop()
            raise
        except (http.client.RemoteDisconnected, http.client.IncompleteRead) as exc:
            self._drop()
            raise TransportError(f"{where}: the camera closed the connection ({exc or type(exc).__name__})") from None
        except http.client.HTTPException as exc:
            self._drop()
            raise ProtocolError(f"{where}: the reply is not HTTP ({type(exc).__name__}: {str(exc)[:80]})") from None
        except ConnectionRefusedError:
            self._drop()
            raise TransportError(f"{where}: connection refused (camera off, booting or wrong port)") from None
        except OSError as exc:          # reset, unreachable, TLS (ssl.SSLError is an OSError)
            self._drop()
            raise TransportError(f"{where}: {exc}") from None

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except OSError:
                pass
        self._conn, self._used = None, 0

    def close(self) -> None:
        self.shut = True
        conn = self._conn
        if conn is not None and conn.sock is not None:
            try:   # wake a request blocked in another thread; it then fails as closed
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self.lock:
            self._drop()

    def reopen(self) -> None:
        with self.lock:
            self.shut = False
            self._drop()
