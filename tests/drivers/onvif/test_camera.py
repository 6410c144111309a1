"""The ONVIF driver against the simulated camera over real HTTP on loopback: discovery,
authentication, moves in neutral units, presets by number, the camera's clock."""
import base64
import http.client
import os
import time
from datetime import datetime, timezone

import pytest

from vksroom.drivers.camera import PtzCamera, open_ptz
from vksroom.drivers.errors import ConfigError, DeviceRejected
from vksroom.drivers.onvif import OnvifCamera, soap
from vksroom.hil.onvif_camera import PATHS

TOL = 1e-3


def near(a, b, tol=TOL):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


# -- discovery and authentication --------------------------------------------------------------

def test_opened_by_scheme_finds_services_profile_and_spaces(sim_cam):
    sim, cam = sim_cam
    assert isinstance(cam, OnvifCamera) and isinstance(cam, PtzCamera)
    assert cam.paths == {"tds": PATHS["tds"], "trt": PATHS["trt"], "tptz": PATHS["tptz"]}
    # the first profile has no PTZ: the first that has one is taken
    assert cam.profile.token == "profile_main"
    assert cam.preset_count == 64
    assert cam.info() == {"model": "VKS Bench PTZ-Sim 20x", "firmware": "2.4.1", "serial": "SIM-0001"}
    assert cam.state() == {"power": "on", "protocol": "onvif", "pan": 0.0, "tilt": 0.0, "zoom": 0.0}
    assert sim.password not in cam.describe()
    for op in ("GetSystemDateAndTime", "GetServices", "GetDeviceInformation", "GetProfiles", "GetNodes",
               "GetConfigurationOptions"):
        assert sim.counts[op] == 1, op


def test_a_profile_is_chosen_by_url_or_setting_and_a_wrong_one_is_named(make_sim, make_cam):
    sim = make_sim()
    assert make_cam(sim.url + "?profile=profile_sub").profile.token == "profile_sub"
    assert make_cam(sim.url, profile="profile_sub").profile.token == "profile_sub"
    with pytest.raises(DeviceRejected, match="profile_main, profile_sub") as info:
        make_cam(sim.url + "?profile=nope")
    assert info.value.code == "ter:NoProfile"
    with pytest.raises(DeviceRejected, match="no PTZ configuration") as info:
        make_cam(sim.url, profile="profile_overview")
    assert info.value.code == "ter:NoPTZProfile"


def test_an_older_camera_behind_nat_is_found_through_getcapabilities(make_sim, make_cam):
    # it does not answer GetServices and writes an address nobody can reach in its XAddrs
    sim = make_sim(get_services=False, xaddr_host="192.0.2.10")
    cam = make_cam(sim.url)
    assert sim.refused["GetServices"] == 1 and sim.counts["GetCapabilities"] == 1
    cam.move_to(0.2, 0.1)     # the PTZ service is reached at the configured host
    assert near(sim.positions()[:2], (0.2, 0.1))


def test_credentials_come_from_the_url_or_from_settings(make_sim, make_cam):
    sim = make_sim(password="p@ss:wörd/1")
    cam = make_cam(sim.address, username="admin", password="p@ss:wörd/1")
    assert cam.power() == "on"
    encoded = sim.address.replace("onvif://", "onvif://admin:p%40ss%3Aw%C3%B6rd%2F1@")
    assert make_cam(encoded).power() == "on"


def test_a_wrong_password_is_refused_as_the_camera_says(make_sim, make_cam):
    sim = make_sim()
    with pytest.raises(DeviceRejected, match="not Authorized") as info:
        make_cam(sim.url.replace("admin-pass", "wrong"))
    assert info.value.code == "ter:NotAuthorized"
    # the pre-authentication operations went through; the first needing a user did not run
    assert sim.counts["GetServices"] == 1
    assert sim.refused["GetDeviceInformation"] == 1 and sim.counts["GetDeviceInformation"] == 0
    with pytest.raises(DeviceRejected) as info:
        make_cam(sim.address)          # no user at all
    assert info.value.code == "ter:NotAuthorized"


def test_every_request_carries_a_fresh_nonce_and_a_replay_is_refused(sim_cam):
    sim, cam = sim_cam
    now = datetime.now(timezone.utc)
    header = soap.security_header(sim.username, sim.password, now, os.urandom(16))
    body = soap.envelope(soap.el("tptz:GetStatus", soap.el("tptz:ProfileToken", "profile_main")), header)

    def post():
        conn = http.client.HTTPConnection(sim.host, sim.port, timeout=2)
        conn.request("POST", PATHS["tptz"], body, {"Content-Type": "application/soap+xml"})
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp.status, data
    assert post()[0] == 200
    status, data = post()                 # the very same token again
    assert status == 400 and soap.reply_fault(data).code == "ter:NotAuthorized"
    for _ in range(3):
        cam.position()                    # the driver's tokens are never replays


def test_the_camera_clock_is_honoured(make_sim, make_cam):
    # the camera is an hour behind: a token dated by our clock is refused...
    sim = make_sim(clock_offset_s=-3600.0)
    header = soap.security_header(sim.username, sim.password, datetime.now(timezone.utc), os.urandom(16))
    conn = http.client.HTTPConnection(sim.host, sim.port, timeout=2)
    conn.request("POST", PATHS["tds"], soap.envelope(soap.el("tds:GetDeviceInformation"), header))
    resp = conn.getresponse()
    assert resp.status == 400 and soap.reply_fault(resp.read()).code == "ter:NotAuthorized"
    conn.close()
    # ...while the driver dates its tokens by the camera's clock
    cam = make_cam(sim.url)
    assert abs(cam.clock_offset + 3600.0) <= 1.0
    cam.move_to(-0.5, 0.5)
    assert near(sim.positions()[:2], (-0.5, 0.5))


def test_a_camera_clock_that_jumps_is_read_again_and_the_request_sent_again(sim_cam):
    sim, cam = sim_cam
    reads = sim.counts["GetSystemDateAndTime"]
    sim.clock_offset_s = 120.0            # an NTP correction on the camera
    cam.move_to(0.3, 0.0)
    assert near(sim.positions()[:2], (0.3, 0.0))
    assert sim.counts["GetSystemDateAndTime"] == reads + 1
    assert sim.refused["AbsoluteMove"] == 1 and cam.counts["auth_retries"] == 1
    cam.position()
    assert sim.counts["GetSystemDateAndTime"] == reads + 1     # once


# -- moving ----------------------------------------------------------------------------------

def test_absolute_moves_land_where_asked_once_still(sim_cam):
    sim, cam = sim_cam
    started = time.monotonic()
    cam.move_to(0.8, -0.4, 0.6)
    took = time.monotonic() - started
    assert sim.model.move_status() == ("IDLE", "IDLE")     # returned when the camera was still
    assert near(sim.positions(), (0.8, -0.4, 0.6))
    assert took >= 0.8 / 4.0 * 0.9                          # the sweep takes its time
    p = cam.position()
    assert near((p.pan, p.tilt, p.zoom), (0.8, -0.4, 0.6))
    cam.zoom_to(0.1)
    assert near(sim.positions(), (0.8, -0.4, 0.1))


def test_a_slower_speed_takes_longer(sim_cam):
    sim, cam = sim_cam
    started = time.monotonic()
    cam.move_to(0.5, 0.0, speed=0.25)       # 0.5 at a quarter of 4/s: 0.5 s
    assert time.monotonic() - started >= 0.45
    assert near(sim.positions()[:2], (0.5, 0.0))


def test_relative_moves_add_to_where_the_camera_is_and_stop_at_the_end(sim_cam):
    sim, cam = sim_cam
    cam.move_to(0.2, 0.2)
    cam.move_by(0.1, -0.3)
    assert near(sim.positions()[:2], (0.3, -0.1))
    cam.move_by(1.0, 0.0, speed=1.0)         # past the end: along the border
    assert near(sim.positions()[:2], (1.0, -0.1))


def test_a_move_without_wait_returns_at_once_and_stop_halts_it(sim_cam):
    sim, cam = sim_cam
    cam.move_to(-1.0, 0.0, speed=0.1, wait=False)     # 2.5 s to go
    assert cam.status().pan_tilt_move == "MOVING"
    cam.stop()
    pan = sim.positions()[0]
    assert -1.0 < pan < 0.0 and sim.model.move_status() == ("IDLE", "IDLE")
    assert near((cam.position().pan,), (pan,))


def test_a_continuous_move_runs_until_stopped(sim_cam):
    sim, cam = sim_cam
    cam.continuous_move(0.1, 0.0, timeout_s=5.0)       # 0.4 a second: 2.5 s to the end
    assert cam.status().pan_tilt_move == "MOVING"
    cam.stop()
    assert 0.0 < sim.positions()[0] < 1.0 and sim.model.move_status()[0] == "IDLE"


def test_values_outside_the_range_are_refused_before_sending(make_sim, make_cam):
    sim = make_sim(tilt_range=(-1.0, 0.2))         # a ceiling mount
    cam = make_cam(sim.url)
    with pytest.raises(ConfigError, match=r"tilt 0.5 is outside this camera's range -1..0.2"):
        cam.move_to(0.0, 0.5)
    for bad in ((1.5, 0.0), (0.0, float("nan")), ("left", 0.0), (True, 0.0)):
        with pytest.raises(ConfigError):
            cam.move_to(*bad)
    with pytest.raises(ConfigError):
        cam.move_to(0.0, 0.0, speed=0)
    with pytest.raises(ConfigError):
        cam.zoom_to(1.2)
    assert sim.counts["AbsoluteMove"] == 0


# -- presets ---------------------------------------------------------------------------------

def test_presets_are_stored_and_recalled_by_number(sim_cam):
    sim, cam = sim_cam
    cam.move_to(0.5, 0.25, 0.5)
    cam.store(2)
    cam.move_to(-0.6, -0.2, 0.1)
    cam.store(7)
    assert {p.name for p in cam.presets()} == {"vks-2", "vks-7"}
    cam.recall(2)
    assert near(sim.positions(), (0.5, 0.25, 0.5)) and sim.model.move_status() == ("IDLE", "IDLE")
    cam.recall(7)
    assert near(sim.positions(), (-0.6, -0.2, 0.1))
    # storing again overwrites the same camera preset, it does not add one
    cam.move_to(0.1, 0.1, 0.0)
    cam.store(2)
    assert len(cam.presets()) == 2
    cam.move_to(0.0, 0.0, 0.0)
    cam.recall(2)
    assert near(sim.positions(), (0.1, 0.1, 0.0))


def test_presets_the_camera_numbers_itself_are_found_by_token(make_sim, make_cam):
    # stored on the camera's own web page: token "4", a name of the camera's choosing
    sim = make_sim(presets={"4": ("Judge", (0.0, -0.4, 0.22)), "9": ("vks-1", (0.4, 0.0, 0.0))})
    cam = make_cam(sim.url)
    cam.recall(4)
    assert near(sim.positions(), (0.0, -0.4, 0.22))
    cam.recall(1)                                      # found by its name, whatever its token
    assert near(sim.positions(), (0.4, 0.0, 0.0))
    with pytest.raises(DeviceRejected) as info:
        cam.recall(5)
    assert info.value.code == "ter:NoToken" and sim.counts["GotoPreset"] == 2
    with pytest.raises(ConfigError):
        cam.recall(0)
    with pytest.raises(ConfigError):
        cam.store(65)                                  # the node holds 64


def test_presets_survive_a_power_cycle(make_sim, make_cam, tmp_path):
    sim = make_sim(state_file=str(tmp_path / "presets.json"))
    cam = make_cam(sim.url)
    cam.move_to(0.3, 0.3)
    cam.store(1)
    sim.power_cycle()
    assert sim.positions() == (0.0, 0.0, 0.0)          # the head went home
    cam.open()
    cam.recall(1)
    assert near(sim.positions()[:2], (0.3, 0.3))


def test_a_full_camera_says_so(make_sim, make_cam):
    # two slots, one taken by a preset stored on the camera's web page
    sim = make_sim(max_presets=2, presets={"door": ("Door", (0.9, 0.0, 0.0))})
    cam = make_cam(sim.url)
    cam.store(1)
    with pytest.raises(DeviceRejected, match="Maximum number of Presets") as info:
        cam.store(2)
    assert info.value.code == "ter:TooManyPresets"


def test_a_preset_cannot_be_stored_while_moving(sim_cam):
    sim, cam = sim_cam
    cam.move_to(-1.0, 0.0, speed=0.1, wait=False)
    with pytest.raises(DeviceRejected) as info:
        cam.store(1)
    assert info.value.code == "ter:MovingPTZ"
    cam.stop()


# -- pictures --------------------------------------------------------------------------------

def test_the_stream_and_snapshot_addresses_are_the_cameras_with_our_credentials(make_sim, make_cam):
    sim = make_sim(video_port=0)
    cam = make_cam(sim.url)
    assert cam.stream_uri() == sim.stream_url()
    assert cam.snapshot_uri() == sim.snapshot_url()
    assert cam.video_url() == sim.stream_url().replace("http://", "http://admin:admin-pass@")
    snap = make_cam(sim.url, video="snapshot", video_credentials=False)
    assert snap.video_url() == sim.snapshot_url()
    assert sim.counts["GetStreamUri"] == 1          # asked once, then remembered


def test_open_ptz_refuses_bad_urls_and_settings_before_sending():
    for url in ("onvif://", "onvif://host:99999/", "onvif://h/?profile=", "onvif://h/?colour=red", "onvifx://h"):
        with pytest.raises(ConfigError):
            open_ptz(url)
    for settings in ({"timeout_s": 0}, {"timeout_s": "5"}, {"video": "rtsp"}, {"tls_verify": "no"},
                     {"colour": "red"}, {"password": ""}):
        with pytest.raises(ConfigError):
            open_ptz("onvif://127.0.0.1:9/", **settings)


def test_the_password_stays_out_of_messages(make_sim, make_cam):
    sim = make_sim()
    with pytest.raises(ConfigError) as info:
        open_ptz(sim.url + "?x=1")
    assert sim.password not in str(info.value)
    cam = make_cam(sim.url)
    assert sim.password not in cam.describe()
    assert base64.b64encode(sim.password.encode()).decode() not in cam.describe()
