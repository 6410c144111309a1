"""`vks-room config check` holds a courtroom's file to a courtroom's rules: a panel with users,
no empty passwords, no placeholder devices; a demo says it is one."""
import subprocess
import sys
from pathlib import Path

import pytest

from vksroom.controller import production
from vksroom.controller.config import parse

ROOT = Path(__file__).resolve().parents[2]
UDEV = ROOT / "firmware" / "udev" / "99-vksroom-serial.rules"   # as shipped: placeholder serials


def room(**over):
    doc = {"room": {"court_id": "ast-smas", "courtroom": "12"},
           "devices": {"cam1": {"type": "camera", "url": "visca-ip://10.20.1.21"},
                       "codec": {"type": "codec", "model": "cisco", "url": "serial:///dev/serial/by-id/usb-Prolific-if00",
                                 "username": "admin", "password": "codec-secret"}},
           "panel": {"users": {"tech-ivanov": "scrypt:32768:8:1$salt$0123abcd"}},
           "mqtt": {"url": "mqtts://broker.sud.kz:8883", "username": "room-12", "password": "s3cret"}}
    for key, value in over.items():
        table, _, name = key.partition("__")
        if value is None:
            doc[table].pop(name)
        else:
            doc[table][name] = value
    return parse(doc)


def keys(cfg, rules=UDEV):
    return [line.split(":")[0] for line in production.problems(cfg, rules)]


def test_a_filled_in_room_passes():
    assert production.problems(room(), UDEV) == []


@pytest.mark.parametrize("change, key", [
    ({"panel__users": None}, "panel.users"),
    ({"mqtt__password": ""}, "mqtt.password"),
    ({"mqtt__url": "mqtts://vks-broker.courts.example:8883"}, "mqtt.url"),
    ({"devices__cam1": {"type": "camera", "url": "visca-ip://192.0.2.21"}}, "devices.cam1.url"),
    ({"devices__codec": {"type": "codec", "model": "cisco", "url": "serial:///dev/vks/codec?baud=115200",
                         "password": "x"}}, "devices.codec.url"),
    ({"devices__codec": {"type": "codec", "model": "cisco", "url": "/dev/ttyUSB0", "password": ""}},
     "devices.codec.password"),
])
def test_what_keeps_a_room_from_a_courtroom_is_named_by_its_key(change, key):
    assert keys(room(**change)) == [key]


def test_udev_names_with_real_serials_pass(tmp_path):
    filled = tmp_path / "rules"
    filled.write_text(UDEV.read_text().replace("CODEC_ADAPTER_SERIAL", "A1B2C3"))
    cfg = room(devices__codec={"type": "codec", "model": "cisco", "url": "serial:///dev/vks/codec", "password": "x"})
    assert keys(cfg, filled) == [] and keys(cfg, UDEV) == ["devices.codec.url"]


def test_users_with_roles_are_read_by_their_hash():
    assert production.user_hash({"hash": "scrypt:1$a$b", "roles": ["technician"]}) == "scrypt:1$a$b"
    assert production.user_hash({"roles": ["technician"]}) == ""
    assert production.user_hash("pbkdf2:sha256$x") == "pbkdf2:sha256$x"


def test_a_demo_is_not_held_to_a_courtrooms_rules():
    demo = parse({"room": {"court_id": "demo", "courtroom": "7", "demo": True},
                  "devices": {"cam": {"type": "camera", "url": "visca-ip://192.0.2.1"}}})
    assert production.problems(demo, UDEV) == []
    assert keys(room(room__demo=False, panel__users=None)) == ["panel.users"]


def _check(path, *extra):
    return subprocess.run([sys.executable, "-m", "vksroom", "config", "check", str(path), "--udev-rules", str(UDEV),
                           *extra], capture_output=True, text=True, timeout=60)


def test_config_check_refuses_the_example_until_it_is_filled_in(tmp_path):
    example = (ROOT / "firmware" / "room.example.toml").read_text(encoding="utf-8")
    shipped = tmp_path / "example.toml"
    shipped.write_text(example, encoding="utf-8")
    ok = _check(shipped)
    assert ok.returncode == 0 and "demo room" in ok.stdout        # the example says it is one
    as_is = tmp_path / "room.toml"
    as_is.write_text(example.replace("demo = true\n", ""), encoding="utf-8")
    refused = _check(as_is)
    assert refused.returncode == 2, refused.stdout
    named = [line.split(":")[0].strip() for line in refused.stderr.splitlines()[1:]]
    assert {"panel.users", "mqtt.password", "mqtt.url", "devices.cam_judge.url", "devices.cam_hall.url",
            "devices.codec.url", "devices.codec.password"} <= set(named), refused.stderr
    assert "Traceback" not in refused.stderr
