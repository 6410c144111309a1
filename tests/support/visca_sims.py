"""Fixtures: VISCA camera simulators on loopback (free ports, pty for serial) that stop by
themselves. Imported by the conftest or module that uses them (ONVIF's have the same names)."""
from __future__ import annotations

import pytest

from vksroom.drivers.camera import open_ptz
from vksroom.drivers.visca import open_camera
from vksroom.hil.visca_camera import CameraSimulator

TRANSPORTS = ("visca-ip", "visca-udp", "visca-tcp", "visca-serial")
FAST = {"boot_s": 0.0, "pan_speed": 50000.0, "tilt_speed": 50000.0, "zoom_speed": 200000.0}


@pytest.fixture
def make_sim():
    sims = []

    def make(transport="visca-ip", **kw):
        sim = CameraSimulator(transport=transport, **{**FAST, **kw}).start()
        sims.append(sim)
        return sim
    yield make
    for sim in sims:
        sim.close()


def _closing(opener):
    """A fixture's body: ``make(url, **settings)`` opens a camera, closed after the test."""
    cams = []

    def make(url, **settings):
        cam = opener(url, **settings)
        cams.append(cam)
        return cam
    yield make
    for cam in cams:
        cam.close()


@pytest.fixture
def make_cam():
    """VISCA's own API (VISCA units)."""
    yield from _closing(open_camera)


@pytest.fixture
def make_ptz():
    """The same cameras as the room sees them: :class:`PtzCamera`, neutral units."""
    yield from _closing(open_ptz)


@pytest.fixture(params=TRANSPORTS)
def sim_cam(request, make_sim, make_cam):
    sim = make_sim(request.param)
    return sim, make_cam(sim.url)
