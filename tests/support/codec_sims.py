"""Fixtures for the codec/DSP tests (a plugin of tests/conftest.py): simulators on real ptys
(TCP for Shure), stopped by themselves, and drivers closed after each test (``closing``)."""
from __future__ import annotations

import pytest

from vksroom.hil.codec_sim import CiscoCodecSimulator, PolyCodecSimulator

FAST = dict(answer_after_s=0.2, busy_after_s=0.1, ring_timeout_s=0.8, drop_after_s=0.6)


@pytest.fixture
def cisco_sim():
    sim = CiscoCodecSimulator(username="admin", password="secret",
                              far_ends={"1001": "answer", "1002": "busy", "1003": "no_answer", "1004": "drop",
                                        "1005": "reject"}, **FAST).start()
    yield sim
    sim.stop()


@pytest.fixture
def poly_sim():
    sim = PolyCodecSimulator(password="pw", far_ends={"2001": "answer", "2002": "busy", "2003": "no_answer",
                                                      "2004": "drop"}, **FAST).start()
    yield sim
    sim.stop()


@pytest.fixture
def make_adapter(closing):
    """``make_adapter(type, url, model, id=..., connect=True, **options)``: a real adapter,
    closed after the test."""
    from vksroom.controller.config import DeviceConfig
    from vksroom.controller.devices import adapter_for

    def make(dtype, url, model, id=None, connect=True, **options):
        adapter = closing(adapter_for(DeviceConfig(id=id or dtype, type=dtype, url=url, model=model,
                                                   options=options)))
        if connect:
            adapter.connect()
        return adapter
    return make


from vksroom.hil.audio_sim import ShureSimulator, TesiraSimulator  # noqa: E402

AUDIO_SIMS = {"tesira": TesiraSimulator, "shure": ShureSimulator}


@pytest.fixture(params=["tesira", "shure"])
def audio_sim(request):
    """A Tesira on a pty or a Shure on TCP, 4 channels: speech, silence, clipping, tone."""
    sim = AUDIO_SIMS[request.param](channels=4, signals={1: "speech", 2: "silence", 3: "clipping", 4: "tone"},
                                    seed=7).start()
    sim.model = request.param
    yield sim
    sim.stop()
