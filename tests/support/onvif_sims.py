"""Fixtures: ONVIF camera simulators on loopback (free ports) and cameras opened on them;
both closed by themselves after the test (``closing``, tests/conftest.py). Imported by the
conftest or module that uses them: their names are the VISCA fixtures' names."""
from __future__ import annotations

import pytest

from vksroom.drivers.camera import open_ptz
from vksroom.hil.onvif_camera import OnvifCameraSimulator

# A fast head (the whole pan sweep in 0.5 s) that still takes visible time to move.
FAST = {"boot_s": 0.0, "pan_speed": 4.0, "tilt_speed": 4.0, "zoom_speed": 4.0}
QUICK = {"poll_s": 0.02, "timeout_s": 2.0, "move_timeout_s": 5.0}


@pytest.fixture
def make_sim(closing):
    return lambda **kw: closing(OnvifCameraSimulator(**{**FAST, **kw}).start())


@pytest.fixture
def make_cam(closing):
    return lambda url, **settings: closing(open_ptz(url, **{**QUICK, **settings}))


@pytest.fixture
def sim_cam(make_sim, make_cam):
    sim = make_sim()
    return sim, make_cam(sim.url)
