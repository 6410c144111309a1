"""``vks-room visca URL ACTION``: one JSON line, exit 0 / 1 / 2."""
import json

from vksroom.cli import main


def run(capsys, *argv):
    code = main(["visca", *argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else None), err


def test_cli_actions(make_sim, capsys):
    sim = make_sim("visca-ip")
    code, out, _ = run(capsys, sim.url, "power")
    assert code == 0 and out["power"] == "on" and out["ok"] is True
    code, out, _ = run(capsys, sim.url, "move", "-200", "100")
    assert code == 0 and (out["pan"], out["tilt"]) == (-200, 100) == (sim.pan, sim.tilt)
    assert run(capsys, sim.url, "store", "2")[0] == 0
    assert run(capsys, sim.url, "home")[1]["pan"] == 0
    code, out, _ = run(capsys, sim.url, "recall", "2")
    assert code == 0 and out["pan"] == -200
    assert run(capsys, sim.url, "zoom", "0x1000")[1]["zoom"] == 0x1000
    assert run(capsys, sim.url, "version")[1]["version"]["model"] == "0511"
    assert run(capsys, sim.url, "freeze-on")[1]["freeze"] == "on" and sim.frozen
    assert run(capsys, sim.url, "freeze-off")[1]["freeze"] == "off" and not sim.frozen
    assert run(capsys, make_sim("visca-tcp", no_freeze=True).url, "freeze")[1]["freeze"] is None
    assert run(capsys, sim.url, "standby")[0] == 0
    code, out, _ = run(capsys, sim.url, "home")
    assert code == 1 and out["ok"] is False and "VISCA error 41" in out["error"] and out["code"] == 0x41


def test_cli_usage_errors(make_sim, capsys):
    sim = make_sim("visca-ip")
    assert run(capsys, sim.url, "recall")[0] == 2
    assert run(capsys, sim.url, "recall", "x")[0] == 2
    assert run(capsys, sim.url, "recall", "300")[0] == 2
    code, _, err = run(capsys, "visca-tcp://127.0.0.1", "power")
    assert code == 2 and "no port" in err


def test_cli_unreachable_camera_exits_1(make_sim, capsys):
    sim = make_sim("visca-ip")
    url = sim.url
    sim.stop()
    code, out, _ = run(capsys, url, "power", "--set", "ack_timeout=0.05", "--set", "retries=1")
    assert code == 1 and "RESET" in out["error"]
