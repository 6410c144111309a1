"""Helpers for the MQTT tests (a room config on a broker, a central-side listener)."""
from __future__ import annotations
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from vksroom.controller.config import MqttConfig, RoomConfig


def room_config(url: str, data_dir, court: str = "almaty-01", room: str = "101", keepalive: int = 2,
                **mqtt_kw) -> RoomConfig:
    return RoomConfig(court_id=court, court_name={"kk": court, "ru": court, "en": court}, courtroom=room,
                      data_dir=str(data_dir), mqtt=MqttConfig(url=url, keepalive=keepalive, **mqtt_kw))


class Listener:
    """A real MQTT subscriber that records what it receives, like the scheduler."""

    def __init__(self, url_or_port, topics=("#",), client_id: str | None = None, clean: bool = True,
                 username: str | None = None, password: str | None = None, tls: dict | None = None):
        port = url_or_port if isinstance(url_or_port, int) else int(url_or_port.rsplit(":", 1)[1])
        host = "127.0.0.1" if isinstance(url_or_port, int) else url_or_port.split("//", 1)[-1].rsplit(":", 1)[0]
        self.messages: list[mqtt.MQTTMessage] = []
        self.cond = threading.Condition()
        self.subscribed = threading.Event()
        self.topics = topics
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or "",
                                  protocol=mqtt.MQTTv311, clean_session=clean)
        if username:
            self.client.username_pw_set(username, password)
        if tls:   # paho's tls_set arguments: ca_certs, certfile, keyfile
            self.client.tls_set(**tls)
        self.client.reconnect_delay_set(0.05, 0.2)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect_async(host, port, keepalive=5)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            self.close()
            raise TimeoutError("the test subscriber could not subscribe")

    def _on_connect(self, client, userdata, flags, reason, props):
        if not reason.is_failure:
            client.subscribe([(t, 1) for t in self.topics])

    def _on_message(self, client, userdata, msg):
        with self.cond:
            self.messages.append(msg)
            self.cond.notify_all()

    def docs(self, suffix: str = "") -> list[dict]:
        with self.cond:
            return [json.loads(m.payload) for m in self.messages if m.topic.endswith(suffix)]

    def wait_for(self, predicate, timeout: float = 10.0):
        """Wait until ``predicate(self)`` is truthy; returns its value or raises on timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s; got {len(self.messages)} messages: "
                                         f"{[m.topic for m in self.messages[-5:]]}")
                self.cond.wait(min(left, 0.5))

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def _openssl(*args, cwd) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"openssl {args[0]} failed: {done.stderr.strip()}")


def _issue(d: Path, name: str, subject: str, ca: str, extensions: str) -> None:
    """A P-256 key ``name.key`` and ``name.crt`` for ``subject``, signed by the CA ``ca``."""
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject, cwd=d)
    (d / f"{name}.ext").write_text(extensions)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "2", "-sha256",
             "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=d)


def make_ca(d: Path, name: str = "ca") -> Path:
    """A throwaway certificate authority: ``name.crt`` / ``name.key`` in ``d``."""
    d.mkdir(parents=True, exist_ok=True)
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-sha256",
             "-subj", f"/CN=vksroom test {name}", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    return d / f"{name}.crt"


def make_pki(d: Path, client_cn: str = "almaty-01/101") -> dict[str, str]:
    """A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate
    (``client_cn``), all with the ``openssl`` command line; paths by role."""
    make_ca(d)
    _issue(d, "server", "/CN=127.0.0.1", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
           "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    _issue(d, "client", "/CN=" + client_cn.replace("/", "\\/"), "ca", "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n")
    return {name: str(d / name) for name in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")}
