"""End to end on real transports: simulators on UDP and a pty, a real broker, the panel
served by its own server (cheroot) on a real port, and a separate MQTT client as the central side."""
import pytest

from vksroom.app import Stack, readiness_topic
from vksroom.hil.demo import DemoBench

from support.e2ekit import Watcher, free_port, get_json, get_text

pytestmark = pytest.mark.timeout(90)


def readiness(doc):
    """The readiness document as the centre receives it (empty until one arrived)."""
    return doc or {}


def seen(watcher, topic, stack) -> str:
    """A failed wait's message: what the centre last got, what the room itself says and how its
    link stands, so the failure names the side that was wrong."""
    room = stack.controller.readiness()
    link = stack.link
    return (f"the centre last got {watcher.messages.get(topic)}; the room itself is {room.state.value} "
            f"{list(room.reasons)}; its link connected={link.connected.is_set()} {link.stats}")


@pytest.fixture(params=["auto", "amqtt"])
def demo(request, tmp_path):
    """The demo stack with the broker the machine has (Mosquitto when installed) and with amqtt."""
    bench = DemoBench(panel_port=free_port(), data_dir=str(tmp_path), broker_kind=request.param)
    with bench:
        stack = Stack(bench.config).start()
        watcher = Watcher(bench.config.mqtt.url, f"{bench.config.mqtt.topic_prefix}/#")
        try:
            yield bench, stack, watcher
        finally:
            watcher.close()
            stack.stop()


def test_ready_room_is_published_retained_and_agrees_with_the_panel(demo):
    bench, stack, watcher = demo
    topic = readiness_topic(bench.config)
    assert stack.controller.wait_for(lambda r: r.state.value == "ready", 20), "devices did not come up"
    result = stack.controller.selftest("test", timeout=40)
    assert result["state"] == "ready", result["reasons"]
    doc = watcher.wait(topic, lambda d: readiness(d).get("state") == "ready", 10)
    assert doc is not None, seen(watcher, topic, stack)
    page = get_text(stack.panel_url)
    assert 'data-state="ready"' in page
    api = get_json(stack.panel_url + "api/readiness")
    assert set(api["devices"]) == set(readiness(doc)["devices"]) == {"cam_judge", "cam_hall", "codec", "dsp"}

    # A late joiner (a scheduler that connects now) gets the current truth at once, retained.
    late = Watcher(bench.config.mqtt.url, topic)
    try:
        doc = late.wait(topic, lambda d: True, 5)
        assert readiness(doc)["state"] == "ready" and late.retained[topic] is True
    finally:
        late.close()


def test_a_stopped_simulator_turns_the_room_degraded_or_not_ready_naming_it(demo):
    bench, stack, watcher = demo
    topic = readiness_topic(bench.config)
    # The cameras answer error 41 while they power up: wait until the centre has seen the room ready.
    assert watcher.wait(topic, lambda d: readiness(d).get("state") == "ready", 20), seen(watcher, topic, stack)

    bench.cameras["cam_hall"].stop()   # optional camera: the room is degraded
    doc = watcher.wait(topic, lambda d: readiness(d).get("state") == "degraded", 10)
    assert doc is not None, seen(watcher, topic, stack)
    assert "Камера зала не отвечает" in readiness(doc)["reasons"]          # by its label, in the room's ru
    page = get_text(stack.panel_url)
    assert 'data-state="degraded"' in page and 'id="dev-cam_hall" class="health-fault"' in page

    bench.codec.unplug()               # required codec: the room is not ready
    doc = watcher.wait(topic, lambda d: readiness(d).get("state") == "not_ready", 10)
    assert doc is not None, seen(watcher, topic, stack)
    assert any(reason.startswith("Кодек") for reason in readiness(doc)["reasons"])
    page = get_text(stack.panel_url)
    assert 'data-state="not_ready"' in page and 'id="dev-codec" class="health-fault"' in page

    bench.codec.replug()               # both come back on their own, no operator
    bench.cameras["cam_hall"].start()
    assert watcher.wait(topic, lambda d: readiness(d).get("state") == "ready", 15), seen(watcher, topic, stack)
