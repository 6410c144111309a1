"""Helpers for the end-to-end tests: a central-side MQTT watcher, HTTP getters, free ports."""
import json
import socket
import threading
import time
import urllib.request

import paho.mqtt.client as mqtt


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Watcher:
    """A separate paho client, as the central scheduler would be: keeps the last message per topic."""

    def __init__(self, url: str, topic: str):
        host, port = url.split("://")[1].split(":")
        self.messages: dict[str, dict] = {}
        self.retained: dict[str, bool] = {}
        self._cond = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"watcher-{time.monotonic_ns()}")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, u, f, rc, p=None: c.subscribe(topic, qos=1)
        self.client.connect(host, int(port), keepalive=10)
        self.client.loop_start()

    def _on_message(self, client, userdata, msg):
        try:
            doc = json.loads(msg.payload) if msg.payload else None
        except ValueError:
            doc = None
        with self._cond:
            self.messages[msg.topic] = doc
            self.retained[msg.topic] = bool(msg.retain)
            self._cond.notify_all()

    def wait(self, topic: str, predicate, timeout: float = 10.0):
        with self._cond:
            ok = self._cond.wait_for(lambda: topic in self.messages and predicate(self.messages[topic]), timeout)
            return self.messages.get(topic) if ok else None

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def get_json(url: str):
    req = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def get_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.read().decode("utf-8")


def https_demo(data_dir: str):
    """The demo room served over HTTPS (its own certificate, made in ``data_dir``) with an HTTP
    redirect port, without MQTT: a context manager giving ``(bench, stack)``."""
    import contextlib
    import dataclasses

    from vksroom.app import Stack
    from vksroom.hil.demo import DemoBench

    @contextlib.contextmanager
    def run():
        with DemoBench(panel_port=free_port(), data_dir=data_dir, mqtt=False) as bench:
            panel = dataclasses.replace(bench.config.panel, tls=True, redirect_port=free_port())
            st = Stack(dataclasses.replace(bench.config, panel=panel), mqtt=False).start()
            try:
                yield bench, st
            finally:
                st.stop()

    return run()
