"""The device kinds, each declared once (controller/devices/kinds.py): every protocol or
model registered there is configured from a room file, opened by its adapter and checked
live against its simulator, so a new one is tested by registering it."""
from __future__ import annotations

import threading
import time

import pytest

from vksroom.controller.config import parse
from vksroom.controller.devices import adapter_for
from vksroom.controller.devices.kinds import KINDS
from vksroom.drivers.camera import PTZ_SCHEMES

VARIANTS = [(kind, variant) for kind in KINDS for variant in KINDS[kind].simulators]


def _live_until_fit(adapter, seconds: float):
    """Poll like the room's coordinator (every 0.1 s here) until the live checks pass; the last."""
    deadline = time.monotonic() + seconds
    pause = threading.Event()
    while True:
        live = adapter.live_checks(adapter.poll())
        if all(c.ok for c in live) or time.monotonic() > deadline:
            return live
        pause.wait(0.1)


@pytest.fixture
def simulator(request):
    kind, variant = request.param
    sim = KINDS[kind].simulator(variant).start()
    yield kind, variant, sim
    sim.stop()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("simulator", VARIANTS, ids=[f"{k}-{v}" for k, v in VARIANTS], indirect=True)
def test_every_registered_simulator_is_a_device_its_kind_configures_opens_and_passes(simulator, tmp_path):
    kind, variant, sim = simulator
    spec = KINDS[kind]
    device = {"type": kind, "url": sim.url, **spec.bench_options}
    if spec.model_names():
        device["model"] = variant
    cfg = parse({"room": {"court_id": "bench", "courtroom": "1", "data_dir": str(tmp_path)},
                 "devices": {"dev": device}})
    adapter = adapter_for(cfg.devices["dev"], tmp_path)
    try:
        assert isinstance(adapter, spec.adapter_class()) and adapter.kind == kind
        adapter.connect()
        live = _live_until_fit(adapter, 5.0)      # a device may start up first (a camera: 0.3 s)
        assert live and all(c.ok for c in live), [(c.code, c.detail) for c in live]
    finally:
        adapter.close()


def test_every_kind_is_registered_whole():
    assert set(KINDS) == {"camera", "codec", "dsp"}
    assert KINDS["camera"].url_schemes() == tuple(PTZ_SCHEMES)        # the protocols' own table
    for kind in KINDS.values():
        assert callable(kind.factory()) and kind.simulators, kind.name
        if kind.model_names():
            # a model without a simulator would go untested here
            assert set(kind.simulators) == set(kind.model_names()), kind.name


def test_a_model_the_driver_does_not_know_is_refused_by_the_config_check():
    from vksroom.controller.config import ConfigInvalid

    with pytest.raises(ConfigInvalid) as bad:
        parse({"room": {"court_id": "a", "courtroom": "1"},
               "devices": {"c": {"type": "codec", "model": "zoom-rooms", "url": "tcp://h:1"}}})
    assert bad.value.errors == ["devices.c.model: unknown model 'zoom-rooms' (known: cisco, poly)"]
