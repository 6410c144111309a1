"""A TCP relay on 127.0.0.1 with a gate: the network between a room and its broker.

Closed, it accepts and hangs up at once (a broker that is not there yet); ``cut()`` also
drops every open connection. ``freeze()`` keeps the connections open and passes nothing
(a network that went silent: no FIN, no RST), ``thaw()`` lets them flow again.
"""
from __future__ import annotations

import selectors
import socket
import threading


class Relay:
    def __init__(self, target_port: int):
        self.target_port = target_port
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self.port = self._server.getsockname()[1]
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self._open = threading.Event()
        self._open.set()
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def open(self):
        self._open.set()

    def freeze(self):
        self._flowing.clear()

    def thaw(self):
        self._flowing.set()

    def cut(self):
        self._open.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self._stop = True
        self.cut()
        self._server.close()

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            if not self._open.is_set():
                conn.close()
                continue
            try:
                up = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                conn.close()
                continue
            with self._lock:
                self._pairs.append((conn, up))
            threading.Thread(target=self._pipe, args=(conn, up), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket):
        sel = selectors.DefaultSelector()
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        try:
            while True:
                if not self._flowing.is_set():
                    self._flowing.wait(1.0)
                    continue
                for key, _ in sel.select(timeout=0.2):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            for s in (a, b):
                s.close()
