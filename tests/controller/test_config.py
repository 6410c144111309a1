"""The room file: valid examples load; each mistake is named by its key path."""
import subprocess
import sys
import textwrap

import pytest

from vksroom.controller.config import ConfigInvalid, load, parse

GOOD = textwrap.dedent("""
    [room]
    court_id = "ast-smas"
    court_name = { kk = "Астана қаласы соты", ru = "Суд города Астаны" }
    courtroom = "12"

    [devices.cam1]
    type = "camera"
    url = "visca-ip://10.0.0.21"
    presets = { judge = 1, wide = 6 }

    [devices.cam2]
    type = "camera"
    url = "visca-serial:///dev/serial/by-id/usb-FTDI-if00?baud=9600&address=2"
    required = false

    [devices.codec]
    type = "codec"
    model = "cisco"
    url = "/dev/serial/by-id/usb-Prolific-if00"
    far_end = "5551234"

    [gpio]
    status_red = 17
    status_green = 27
    relays = { cam1 = 5 }

    [panel]
    users = { tech-ivanov = "scrypt:32768:8:1$salt$0123abcd" }

    [mqtt]
    url = "mqtts://vks-broker.sud.kz:8883"
    username = "room-ast-smas-12"
    password = "s3cret"
""")


def test_a_good_file_loads(tmp_path):
    path = _written(tmp_path / "room.toml", GOOD, 0o640)
    cfg = load(path)
    assert cfg.court_id == "ast-smas" and cfg.courtroom == "12"
    assert list(cfg.devices) == ["cam1", "cam2", "codec"]
    assert cfg.devices["cam1"].options["presets"] == {"judge": 1, "wide": 6}
    assert cfg.devices["cam2"].required is False
    assert cfg.mqtt.port == 8883 and cfg.mqtt.tls
    assert "s3cret" not in repr(cfg)  # secrets never reach a log line through repr
    assert cfg.court_name == {"kk": "Астана қаласы соты", "ru": "Суд города Астаны", "en": "Суд города Астаны"}


@pytest.mark.parametrize("change, message", [
    ({"devices": {"cam1": {"type": "projector", "url": "x"}}}, "devices.cam1.type: unknown device type 'projector'"),
    ({"devices": {"cam1": {"type": "camera", "url": "http://10.0.0.1"}}}, "devices.cam1.url: unknown scheme 'http'"),
    ({"devices": {"cam1": {"type": "camera", "url": "visca-tcp://10.0.0.1"}}}, "devices.cam1.url: 'visca-tcp://10.0.0.1' names no port"),
    ({"devices": {"cam1": {"type": "camera", "url": "visca-ip://h:99999"}}}, "devices.cam1.url: 'visca-ip://h:99999': the port is not a number"),
    ({"devices": {"cam1": {"type": "camera", "url": "visca-ip://h", "presets": {"judge": 300}}}}, "devices.cam1.presets.judge: must be a preset number 0-254"),
    ({"devices": {"c": {"type": "codec", "url": "/dev/ttyUSB0"}}}, "devices.c.model: is required"),
    ({"devices": {"c": {"type": "codec", "model": "zoom", "url": "/dev/ttyUSB0"}}}, "devices.c.model: unknown model 'zoom'"),
    ({"devices": {"cam1": {"type": "camera", "url": "visca-ip://h", "requird": False}}}, "devices.cam1.requird: unknown key"),
    ({"devices": {"cam1": {"type": "camera", "url": "visca-ip://h", "required": "yes"}}}, "devices.cam1.required: must be true or false, not str"),
    ({"devices": {}}, "devices: no devices configured"),
    ({"room": {"court_id": "Bad Id!", "courtroom": "1"}}, "room.court_id: must be"),
    ({"room": {"court_id": "a", "courtroom": "1", "timezone": "Mars/Olympus"}}, "room.timezone: unknown time zone"),
    ({"gpio": {"status_red": 40}}, "gpio.status_red: must be a BCM GPIO number 0-27"),
    ({"gpio": {"status_red": 5, "buzzer": 5}}, "gpio: pin 5 is used twice"),
    ({"gpio": {"relays": {"printer": 6}}}, "gpio.relays.printer: names no configured device"),
    ({"mqtt": {"url": "http://x"}}, "mqtt.url: unknown scheme 'http'"),
    ({"mqtt": {"ca_file": "/nonexistent/ca.pem"}}, "mqtt.ca_file: no such file"),
    ({"panel": {"port": 0}}, "panel.port: must be 1-65535"),
    ({"panel": {"users": {"tech": "plain-password"}}}, "panel.users.tech: must be a password hash"),
    ({"devices": {"dsp": {"type": "dsp", "model": "tesira", "url": "/dev/ttyUSB1",
                          "channels": {"judge": {"index": 1}, "clerk": {"index": 1}}}}},
     "devices.dsp.channels.clerk.index: channel 1 is already used by judge"),
    ({"lifecycle": {"warn_before_s": -5}}, "lifecycle.warn_before_s: must be > 0"),
    ({"lifecycle": {"degrade_after_s": {"smell": 3}}}, "lifecycle.degrade_after_s.smell: unknown kind"),
])
def test_each_mistake_is_named_by_its_key_path(change, message):
    import tomllib

    data = tomllib.loads(GOOD)
    data.update(change)
    with pytest.raises(ConfigInvalid) as info:
        parse(data)
    assert any(e.startswith(message) for e in info.value.errors), info.value.errors


def test_lifecycle_settings_from_the_file_reach_the_planner(tmp_path):
    import tomllib

    from vksroom.controller.assemble import build_room

    data = tomllib.loads(GOOD)
    data["room"]["data_dir"] = str(tmp_path)
    data["lifecycle"] = {"warn_before_s": 7200, "degrade_after_s": {"video": 45}}
    room = build_room(parse(data), adapters={})
    try:
        assert room.lifecycle.settings.warn_before_s == 7200
        assert room.lifecycle.settings.degrade_after_s["video"] == 45
        assert room.lifecycle.settings.degrade_after_s["audio"] == 30.0   # the default stays for the rest
    finally:
        room.stop()


def test_all_mistakes_are_reported_at_once():
    with pytest.raises(ConfigInvalid) as info:
        parse({"room": {"court_id": "x", "courtroom": "1"},
               "devices": {"a": {"type": "camera", "url": "ftp://x"}, "b": {"type": "dsp", "url": "tcp://h:1",
                                                                              "model": "nope"}},
               "panel": {"port": "eighty"}})
    assert len(info.value.errors) == 3


def test_a_devices_own_rules_are_reported_with_its_other_mistakes():
    with pytest.raises(ConfigInvalid) as info:
        parse({"room": {"court_id": "x", "courtroom": "1"},
               "devices": {"cam": {"type": "camera", "url": "ftp://x", "presets": {"judge": 300}, "tolerance": 2.5},
                           "dsp": {"type": "dsp", "model": "shure", "url": "tcp://h:1", "label": "",
                                   "channels": {"a": {"index": 0}}}}})
    assert [e.split(":")[0] for e in info.value.errors] == [
        "devices.cam.url", "devices.cam.presets.judge", "devices.cam.tolerance",   # the URL said once
        "devices.dsp.label", "devices.dsp.channels.a.index"], info.value.errors


def _cli(*args, cwd=None, input_=None):
    return subprocess.run([sys.executable, "-m", "vksroom", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, input=input_)


def test_config_check_cli(tmp_path):
    good = _written(tmp_path / "good.toml", GOOD, 0o640)
    ok = _cli("config", "check", str(good))
    assert ok.returncode == 0 and "OK" in ok.stdout

    missing = _cli("config", "check", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr and "Traceback" not in missing.stderr

    broken = tmp_path / "broken.toml"
    broken.write_text("[room\ncourt_id = 1", encoding="utf-8")
    syntax = _cli("config", "check", str(broken))
    assert syntax.returncode == 2 and "TOML syntax error" in syntax.stderr and "Traceback" not in syntax.stderr

    unknown = _written(tmp_path / "unknown.toml",
                       GOOD.replace('type = "camera"\nurl = "visca-ip', 'type = "beamer"\nurl = "visca-ip'), 0o640)
    bad = _cli("config", "check", str(unknown))
    assert bad.returncode == 2 and "devices.cam1.type: unknown device type 'beamer'" in bad.stderr


def test_usage_errors_exit_2():
    assert _cli("selftest").returncode == 2
    assert _cli("no-such-command").returncode == 2
    helped = _cli("selftest", "--help")
    assert helped.returncode == 0 and "--json" in helped.stdout


def test_panel_users_with_roles_and_the_old_bare_hash(tmp_path):
    import tomllib

    line = _cli("panel-password", "akhmetova", "--role", "secretary", "--role", "head_of_chancellery",
                input_="a long passphrase\n")
    assert line.returncode == 0 and line.stdout.startswith("akhmetova = { hash = \"scrypt:")
    data = tomllib.loads(GOOD)
    data["panel"]["users"].update(tomllib.loads(line.stdout))
    users = parse(data).panel.users
    assert users["akhmetova"]["roles"] == ("secretary", "head_of_chancellery")
    assert users["tech-ivanov"] == {"hash": "scrypt:32768:8:1$salt$0123abcd", "roles": ("technician",)}
    named = _cli("panel-password", "serikova", "--display", "Техник А. Серикова", input_="a long passphrase\n")
    data["panel"]["users"].update(tomllib.loads(named.stdout))
    assert parse(data).panel.users["serikova"]["display"] == "Техник А. Серикова"   # shown in place of the login
    assert parse(data).panel.users["serikova"]["roles"] == ("technician",)
    wrong = _cli("panel-password", "x", "--role", "judge", input_="a long passphrase\n")
    assert wrong.returncode == 2 and "unknown role 'judge'" in wrong.stderr
    h = "scrypt:1$a$b"
    for entry, message in (({"hash": h, "roles": ["judge"]}, "panel.users.u.roles: unknown role 'judge'"),
                           ({"hash": h, "roles": []}, "panel.users.u.roles: give the user at least one"),
                           ({"hash": "hunter2", "roles": ["secretary"]}, "panel.users.u: must be a password hash"),
                           ({"roles": ["secretary"]}, "panel.users.u.hash: is required"),
                           ({"hash": h, "roles": ["centre"]}, "panel.users.u.roles: unknown role"),
                           ({"hash": h, "roles": ["secretary"], "display": " "}, "panel.users.u.display: a name"),
                           ({"hash": h, "roles": ["secretary"], "display": "А.\nБ."}, "panel.users.u.display:")):
        data["panel"]["users"] = {"u": entry}
        with pytest.raises(ConfigInvalid) as info:
            parse(data)
        assert any(e.startswith(message) for e in info.value.errors), info.value.errors


PUBLIC = GOOD.replace('password = "s3cret"', "").replace('users = { tech-ivanov = "scrypt:32768:8:1$salt$0123abcd" }',
                                                        "")   # the room file with no secret in it


def _written(path, text, mode):
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_a_config_holding_secrets_must_not_be_readable_by_everyone(tmp_path):
    room = _written(tmp_path / "room.toml", GOOD, 0o644)
    with pytest.raises(ConfigInvalid) as info:
        load(room)
    assert any("holds secrets (mqtt.password, panel.users) and is readable by everyone (mode 0644)" in e
               for e in info.value.errors), info.value.errors
    checked = _cli("config", "check", str(room))
    assert checked.returncode == 2 and "readable by everyone" in checked.stderr
    room.chmod(0o640)                                   # root and the vksroom group, as install.sh leaves it
    assert load(room).mqtt.password == "s3cret"
    assert load(_written(tmp_path / "plain.toml", PUBLIC, 0o644)).mqtt.password == ""   # no secrets: readable


def test_secrets_from_a_separate_file_only_the_service_may_read(tmp_path):
    secrets = tmp_path / "secrets.toml"
    room = _written(tmp_path / "room.toml", PUBLIC.replace('courtroom = "12"',
                                                           f'courtroom = "12"\nsecrets_file = "{secrets}"'), 0o644)
    _written(secrets, '[mqtt]\npassword = "s3cret"\n\n[panel.users]\nakhmetova = { hash = "scrypt:1$a$b", '
                      'roles = ["secretary"] }\n', 0o600)
    cfg = load(room)
    assert cfg.mqtt.password == "s3cret" and cfg.panel.users["akhmetova"]["roles"] == ("secretary",)
    assert cfg.mqtt.username == "room-ast-smas-12"      # the rest from the room file
    secrets.chmod(0o640)
    with pytest.raises(ConfigInvalid, match=r"room.secrets_file: .*secrets.toml is readable by others \(mode 0640\)"):
        load(room)
    _written(secrets, '[room]\ncourt_id = "other"\n', 0o600)
    with pytest.raises(ConfigInvalid, match=r"room.secrets_file: room.court_id is no secret"):
        load(room)
    secrets.unlink()
    with pytest.raises(ConfigInvalid, match="room.secrets_file: no such file"):
        load(room)


def test_a_private_key_readable_by_everyone_is_refused(tmp_path):
    import tomllib

    cert, key = _written(tmp_path / "panel.pem", "cert", 0o644), _written(tmp_path / "panel.key", "key", 0o644)
    data = tomllib.loads(GOOD)
    data["panel"].update(host="0.0.0.0", cert_file=str(cert), key_file=str(key))
    data["mqtt"]["key_file"] = str(key)
    with pytest.raises(ConfigInvalid) as info:
        parse(data)
    assert {e.split(":")[0] for e in info.value.errors} == {"panel.key_file", "mqtt.key_file"}
    key.chmod(0o600)
    assert parse(data).panel.key_file == str(key)
