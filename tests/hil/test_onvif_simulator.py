"""The ONVIF camera simulator as bench equipment: runnable alone, speaking ONVIF's wire to any
client (plain HTTP here, not our driver), booting after a power cycle, imports nothing of the room."""
import ast
import http.client
import pathlib
import signal
import subprocess
import sys
import threading
import time

import pytest

from vksroom.drivers.errors import DeviceNotReady, TransportError

from support.onvifkit import when_ready
from support.onvif_sims import make_cam, make_sim  # noqa: F401  (fixtures: ONVIF's, not hil/conftest.py's VISCA ones)

SIM_DIR = pathlib.Path(__file__).resolve().parents[2] / "hil" / "onvif_camera"


def test_help():
    out = subprocess.run([sys.executable, "-m", "vksroom.hil.onvif_camera", "--help"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and "--boot-s" in out.stdout and "SIGHUP" in out.stdout


@pytest.mark.timeout(60)
def test_runs_alone_and_power_cycles_on_sighup(make_cam):
    proc = subprocess.Popen([sys.executable, "-m", "vksroom.hil.onvif_camera", "--port", "0", "--no-video",
                             "--boot-s", "0.5"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("ONVIF camera simulator at onvif://admin:admin-pass@127.0.0.1:")
        cam, _ = when_ready(lambda: make_cam(line.split()[-1]), timeout=10)
        cam.move_to(0.5, 0.0)
        proc.send_signal(signal.SIGHUP)
        down, pause, deadline = 0, threading.Event(), time.monotonic() + 10
        while True:                               # until it is back, at home after the power cycle
            try:
                if cam.position().pan == 0.0:
                    break
            except (DeviceNotReady, TransportError):
                down += 1                         # off, then booting
            assert time.monotonic() < deadline, "the camera did not come back"
            pause.wait(0.05)
        assert down >= 1
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.stdout.close()


def test_plain_soap_without_authentication_gets_the_clock_but_not_the_profiles(make_sim):
    sim = make_sim()
    envelope = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
                '<s:Body><{op} xmlns="{ns}"/></s:Body></s:Envelope>')

    def post(path, op, ns):
        conn = http.client.HTTPConnection(sim.host, sim.port, timeout=2)
        conn.request("POST", path, envelope.format(op=op, ns=ns).encode(),
                     {"Content-Type": "application/soap+xml; charset=utf-8"})
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        return resp.status, body
    status, body = post("/onvif/device_service", "GetSystemDateAndTime", "http://www.onvif.org/ver10/device/wsdl")
    assert status == 200 and "<tt:UTCDateTime>" in body and "GetSystemDateAndTimeResponse" in body
    status, body = post("/onvif/media_service", "GetProfiles", "http://www.onvif.org/ver10/media/wsdl")
    assert status == 400 and "<s:Value>ter:NotAuthorized</s:Value>" in body and "<s:Value>s:Sender</s:Value>" in body
    status, body = post("/onvif/media_service", "SystemReboot", "http://www.onvif.org/ver10/device/wsdl")
    assert status == 400 and "ter:NotAuthorized" in body      # not even told whether it exists
    status, body = post("/nope", "GetSystemDateAndTime", "http://www.onvif.org/ver10/device/wsdl")
    assert status == 404


def test_the_simulator_imports_nothing_of_the_room():
    for path in SIM_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(("vksroom.controller", "vksroom.web", "vksroom.mqtt",
                                            "vksroom.drivers", "vksroom.app")), f"{path.name} imports {name}"
