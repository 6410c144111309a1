"""TLS with client certificates against a real Mosquitto TLS listener on 127.0.0.1.

The fixture makes a throwaway CA, a server certificate for 127.0.0.1/localhost and a room
client certificate with the openssl command line; the broker demands a client certificate
and a password. The room config carries them as a court would write it (mqtts://, ca_file,
cert_file, key_file, username, password).
"""
from __future__ import annotations

import logging
import os
import pwd
import string
import subprocess
from pathlib import Path

import pytest

from vksroom.hil.broker import Broker, TlsFiles, free_port, mosquitto_path, wait_accepting
from vksroom.mqtt.link import MqttLink

from support.mqttkit import Listener, make_ca, make_pki, room_config

pytestmark = [pytest.mark.timeout(60), pytest.mark.skipif(not mosquitto_path(), reason="no Mosquitto")]
BASE = "vks/almaty-01/101"
TEMPLATES = Path(__file__).parents[2] / "firmware" / "mosquitto"
USER, PASSWORD = "almaty-01/101", "Zh7-pw-never-logged-41"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    files = make_pki(d / "court")
    files["other_ca.crt"] = str(make_ca(d / "other", "ca"))   # a CA the broker never heard of
    pw = d / "passwd"
    for user, password in ((USER, PASSWORD), ("scheduler", "pw-sched")):
        subprocess.run(["mosquitto_passwd", "-b"] + ([] if pw.exists() else ["-c"]) + [str(pw), user, password],
                       check=True, capture_output=True)
    files["passwd"] = str(pw)
    return files


@pytest.fixture(scope="module")
def tls_broker(pki):
    b = Broker("mosquitto", tls=TlsFiles(pki["ca.crt"], pki["server.crt"], pki["server.key"]),
               password_file=pki["passwd"]).start()
    yield b
    b.close()


@pytest.fixture
def make_link(tmp_path, room, tls_broker, pki):
    made = []

    def make(**mqtt_kw):
        kw = dict(username=USER, password=PASSWORD, ca_file=pki["ca.crt"], cert_file=pki["client.crt"],
                  key_file=pki["client.key"]) | mqtt_kw
        link = MqttLink(room, room_config(tls_broker.url, tmp_path / f"room{len(made)}", **kw),
                        backoff=(0.1, 0.3)).start()
        made.append(link)
        return link

    yield make
    for link in made:
        link.stop(timeout=2)


def scheduler(port, pki, topics=(f"{BASE}/#",)):
    """The scheduler as a TLS subscriber (it too presents a certificate signed by the court CA)."""
    return Listener(port, topics, username="scheduler", password="pw-sched",
                    tls={"ca_certs": pki["ca.crt"], "certfile": pki["client.crt"], "keyfile": pki["client.key"]})


def test_room_connects_with_ca_and_client_certificate_and_publishes_readiness(tls_broker, pki, make_link, caplog):
    assert tls_broker.url.startswith("mqtts://127.0.0.1:")
    caplog.set_level(logging.DEBUG)
    link = make_link()
    assert link.ready.wait(10), link.last_error
    assert link.last_error is None and link.protocol_name == "5"
    sub = scheduler(tls_broker.port, pki)
    try:
        doc = sub.wait_for(lambda li: li.docs("/readiness") and li.docs("/readiness")[-1])
        assert doc["state"] == "ready" and doc["court_id"] == "almaty-01"
        sub.wait_for(lambda li: any(d["state"] == "ready" for d in li.docs("/lifecycle")))
    finally:
        sub.close()
    link.stop(timeout=2)
    assert caplog.records, "the link logged nothing: the password check below would prove nothing"
    assert any(USER in r.getMessage() for r in caplog.records)   # the user name may be logged...
    assert not [r.getMessage() for r in caplog.records if PASSWORD in r.getMessage()]   # ...the password never


def test_wrong_ca_is_refused_clearly_and_the_link_keeps_trying(pki, make_link, caplog):
    caplog.set_level(logging.DEBUG)
    link = make_link(ca_file=pki["other_ca.crt"])
    assert link.wait_until(lambda li: li.stats["connect_failures"] >= 3, 10), "the link stopped retrying"
    assert not link.connected.is_set()
    assert link.last_error.startswith("TLS: the broker's certificate at mqtts://127.0.0.1:")
    assert "not trusted" in link.last_error and pki["other_ca.crt"] in link.last_error
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "cannot connect" in r.getMessage()]
    assert len(warnings) == 1 and "not trusted" in warnings[0]   # said once, not on every retry
    assert link._pump.is_alive() and link._worker.is_alive()
    assert not [r.getMessage() for r in caplog.records if PASSWORD in r.getMessage()]


def test_without_client_certificate_the_broker_refuses(make_link, caplog):
    caplog.set_level(logging.DEBUG)
    link = make_link(cert_file="", key_file="")
    assert link.wait_until(lambda li: li.stats["connect_failures"] >= 3, 10), "the link stopped retrying"
    assert not link.ready.is_set()
    assert "refused the handshake" in link.last_error and "no client certificate" in link.last_error
    assert link.protocol_name == "5"   # a TLS refusal is not mistaken for a broker without MQTT 5
    assert not [r.getMessage() for r in caplog.records if PASSWORD in r.getMessage()]


def test_the_firmware_template_runs_a_tls_listener_rooms_can_use(pki, room, tmp_path, caplog):
    """The central config exactly as rendered for a court, with its ACL: only the listener is
    pinned to 127.0.0.1 (MQTT_PORT is substituted as 'PORT 127.0.0.1')."""
    port = free_port()
    values = dict(PREFIX="vks", MQTT_PORT=f"{port} 127.0.0.1", CA_FILE=pki["ca.crt"], CERT_FILE=pki["server.crt"],
                  KEY_FILE=pki["server.key"], ETC=str(tmp_path), DATA=str(tmp_path))
    (tmp_path / "vksroom.passwd").write_bytes(Path(pki["passwd"]).read_bytes())
    for name in ("vksroom.conf", "vksroom.acl"):
        text = string.Template((TEMPLATES / f"{name}.template").read_text()).substitute(values)
        (tmp_path / name).write_text(text)
    conf = tmp_path / "vksroom.conf"
    assert "require_certificate true" in conf.read_text()
    if os.geteuid() == 0:   # as root, Mosquitto would switch to 'mosquitto', who can not read tmp_path
        conf.write_text(conf.read_text() + f"user {pwd.getpwuid(0).pw_name}\n")
    proc = subprocess.Popen([mosquitto_path(), "-c", str(conf)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_accepting(port, 10, alive=lambda: proc.poll() is None)
        url = f"mqtts://127.0.0.1:{port}"
        good = MqttLink(room, room_config(url, tmp_path / "good", username=USER, password=PASSWORD,
                                          ca_file=pki["ca.crt"], cert_file=pki["client.crt"],
                                          key_file=pki["client.key"]), backoff=(0.1, 0.3)).start()
        bare = MqttLink(room, room_config(url, tmp_path / "bare", username=USER, password=PASSWORD,
                                          ca_file=pki["ca.crt"], client_id="bare"), backoff=(0.1, 0.3)).start()
        try:
            assert good.ready.wait(10), good.last_error
            assert bare.wait_until(lambda li: li.last_error, 10) and not bare.connected.is_set()
            assert "no client certificate" in bare.last_error
            sub = scheduler(port, pki, [f"{BASE}/readiness"])
            try:
                assert sub.wait_for(lambda li: li.docs("/readiness"))[-1]["state"] == "ready"
            finally:
                sub.close()
        finally:
            good.stop(timeout=2)
            bare.stop(timeout=2)
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stderr.close()
