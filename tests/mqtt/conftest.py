"""Fixtures for the MQTT tests: real brokers (Mosquitto and amqtt), a real subscriber."""
from __future__ import annotations

import pytest

from support.mqttkit import Listener, room_config  # noqa: F401  (fixtures below use them)
from support.room_stub import RoomStub
from vksroom.hil.broker import Broker, mosquitto_path

BROKERS = ["mosquitto", "amqtt"]


def _broker_params():
    for kind in BROKERS:
        marks = [pytest.mark.skipif(not mosquitto_path(), reason="Mosquitto not installed")] if kind == "mosquitto" else []
        yield pytest.param(kind, id=kind, marks=marks)


@pytest.fixture(params=list(_broker_params()))
def broker(request):
    b = Broker(request.param)
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
