"""Call quality reaches the centre in the retained readiness while a hearing is under way,
checked against the contract, and leaves it when the hearing ends; over real brokers."""
from __future__ import annotations

import pytest

from vksroom.controller.model import RoomState
from vksroom.mqtt import contract
from vksroom.mqtt.link import MqttLink
from support.mqttkit import room_config

pytestmark = pytest.mark.timeout(60)
BASE = "vks/almaty-01/101"
FIGURES = {"call_id": "3", "rx_loss_pct": 12.5, "tx_loss_pct": 0.0, "jitter_ms": 40.0, "rx_kbps": 1800.0,
           "tx_kbps": 1800.0, "negotiated_kbps": 1920.0, "rate_ratio": 0.938, "rx_width": 1920, "rx_height": 1080,
           "rx_fps": 30.0, "rx_audio": True, "video_protocol": "H264", "audio_protocol": "Opus", "at": 1.0}


def test_call_quality_rides_in_the_readiness_during_a_hearing(broker, room, listeners, tmp_path):
    link = MqttLink(room, room_config(broker.url, tmp_path), backoff=(0.1, 0.5)).start()
    try:
        assert link.ready.wait(10)
        centre = listeners(broker.url, [f"{BASE}/#"])
        room.set_state(RoomState.IN_HEARING, activity="hearing")
        room.emit("call.quality", hearing_id="H1", device="codec", quality=FIGURES)
        doc = centre.wait_for(lambda li: next((d for d in reversed(li.docs("/readiness")) if "call_quality" in d),
                                              None))
        contract.check("readiness", doc)
        assert doc["state"] == "in_hearing"
        assert doc["call_quality"]["codec"]["rx_loss_pct"] == 12.5
        assert doc["call_quality"]["codec"]["hearing_id"] == "H1"
        [event] = centre.wait_for(lambda li: li.docs("/events/call-quality"))
        contract.check("event", event)

        room.emit("hearing.ended", hearing_id="H1", cause="secretary", reason="Заседание окончено секретарём")
        after = centre.wait_for(lambda li: (li.docs("/readiness")[-1] if "call_quality" not in
                                            li.docs("/readiness")[-1] else None))
        contract.check("readiness", after)
    finally:
        link.stop(timeout=2)
