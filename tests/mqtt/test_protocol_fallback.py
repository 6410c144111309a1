"""MQTT 5 -> 3.1.1 only when the broker says it does not speak 5; never on a refused login."""
from __future__ import annotations

import socket
import subprocess
import threading

import pytest

from support.mqttkit import room_config
from support.room_stub import RoomStub
from vksroom.hil.broker import Broker, mosquitto_path
from vksroom.mqtt.link import MqttLink

pytestmark = pytest.mark.timeout(60)


@pytest.mark.skipif(not mosquitto_path(), reason="no Mosquitto")
def test_a_refused_login_is_not_taken_for_a_broker_without_mqtt5(tmp_path):
    pw = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(pw), "almaty-01/101", "right-pw"], check=True,
                   capture_output=True)
    broker = Broker("mosquitto", password_file=str(pw)).start()
    link = MqttLink(RoomStub(), room_config(broker.url, tmp_path, username="almaty-01/101",
                                            password="wrong-pw")).start()
    try:
        assert link.wait_until(lambda li: li.stats["connect_failures"] >= 3, 15), "the link stopped retrying"
        assert link.protocol_name == "5"
        assert "refused the connection" in link.last_error
        assert "not authorized" in link.last_error.lower() or "user name or password" in link.last_error.lower()
    finally:
        link.stop(timeout=2)
        broker.close()


class _OldBroker:
    """A broker of MQTT 3.1.1 only, as far as CONNECT goes: to a CONNECT of another protocol
    level it answers CONNACK 0x01 "unacceptable protocol version" (MQTT 3.1.1, 3.2.2.3) and
    hangs up; it records the levels it was offered."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"mqtt://127.0.0.1:{self.server.getsockname()[1]}"
        self.levels: list[int] = []
        self.offered = threading.Condition()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                data = conn.recv(4096)
                if len(data) < 9 or data[0] != 0x10:
                    continue
                at = 1                              # the remaining length: 1-4 bytes, 7 bits each
                while data[at] & 0x80:
                    at += 1
                at += 1
                name = data[at] << 8 | data[at + 1]   # then the protocol name ("MQTT") and its level
                with self.offered:
                    self.levels.append(data[at + 2 + name])
                    self.offered.notify_all()
                conn.sendall(bytes([0x20, 0x02, 0x00, 0x01]))

    def close(self):
        self.server.close()


def test_connack_unacceptable_protocol_version_falls_back_to_311(tmp_path):
    old = _OldBroker()
    link = MqttLink(RoomStub(), room_config(old.url, tmp_path)).start()
    try:
        with old.offered:
            assert old.offered.wait_for(lambda: 4 in old.levels, 10), old.levels
        assert old.levels[0] == 5 and link.protocol_name == "3.1.1"
    finally:
        link.stop(timeout=2)
        old.close()
