"""Fixtures for the MQTT tests: real brokers (Mosquitto and amqtt, and the broker at
$VKSROOM_TEST_BROKER when it is set, e.g. a RabbitMQ or ejabberd node), a real subscriber."""
from __future__ import annotations

import os
import urllib.parse

import pytest

from support.mqttkit import Listener, room_config  # noqa: F401  (fixtures below use them)
from support.room_stub import RoomStub
from vksroom.hil.broker import Broker, mosquitto_path

BROKERS = ["mosquitto", "amqtt"]
EXTERNAL = os.environ.get("VKSROOM_TEST_BROKER", "")   # mqtt://HOST:PORT of a broker someone else runs


class ExternalBroker:
    """The broker at $VKSROOM_TEST_BROKER: the tests use it, but cannot stop or restart it."""

    kind = "external"

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "mqtt" or not parts.port:
            raise pytest.UsageError(f"VKSROOM_TEST_BROKER={url!r}: use mqtt://HOST:PORT")
        self.url, self.host, self.port = url, parts.hostname, parts.port

    def start(self):
        return self

    def kill(self):
        pytest.skip(f"the broker at {self.url} is not ours to stop")

    stop = kill

    def close(self):
        pass


def _broker_params():
    if EXTERNAL:
        yield pytest.param("external", id="external")
    for kind in BROKERS:
        marks = [pytest.mark.skipif(not mosquitto_path(), reason="Mosquitto not installed")] if kind == "mosquitto" else []
        yield pytest.param(kind, id=kind, marks=marks)


@pytest.fixture(params=list(_broker_params()))
def broker(request):
    b = ExternalBroker(EXTERNAL) if request.param == "external" else Broker(request.param)
    b.start()
    yield b
    b.close()


@pytest.fixture
def mosquitto():
    if not mosquitto_path():
        pytest.skip("Mosquitto not installed")
    b = Broker("mosquitto").start()
    yield b
    b.close()


@pytest.fixture
def listeners():
    made = []

    def make(*args, **kw):
        listener = Listener(*args, **kw)
        made.append(listener)
        return listener

    yield make
    for listener in made:
        listener.close()


@pytest.fixture
def room():
    return RoomStub()
