"""The systemd units the Pi gets, read as systemd reads them (key=value per section, a key may
repeat and lists are space-separated)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "firmware" / "systemd"


def unit(path: Path) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).extend(value.split())
    return sections


def test_the_room_waits_for_the_clock_for_a_bounded_time():
    u = unit(SYSTEMD / "vksroom.service")["Unit"]
    for name in ("time-sync.target", "systemd-time-wait-sync.service"):
        assert name in u["Wants"], f"{name}: After= alone orders nothing"
        assert name in u["After"]
    bound = unit(SYSTEMD / "systemd-time-wait-sync.service.d" / "vksroom-bound.conf")["Service"]
    assert 0 < int(bound["TimeoutStartSec"][0]) <= 300
    install = (ROOT / "firmware" / "install.sh").read_text()
    assert "systemd-time-wait-sync.service.d/vksroom-bound.conf" in install


def test_the_room_survives_hangs_and_does_not_churn():
    service = unit(SYSTEMD / "vksroom.service")
    assert int(service["Unit"]["StartLimitBurst"][0]) >= 3 and int(service["Unit"]["StartLimitIntervalSec"][0]) > 0
    assert service["Service"]["WatchdogSec"] and service["Service"]["Restart"] == ["always"]
    manager = unit(SYSTEMD / "system.conf.d" / "vksroom-watchdog.conf")["Manager"]
    assert 0 < int(manager["RuntimeWatchdogSec"][0]) <= 15       # the Pi's bcm2835 watchdog caps at ~15 s
    install = (ROOT / "firmware" / "install.sh").read_text()
    assert "system.conf.d/vksroom-watchdog.conf" in install


def test_every_supplementary_group_is_created_by_the_installer():
    groups = unit(SYSTEMD / "vksroom.service")["Service"]["SupplementaryGroups"]
    install = (ROOT / "firmware" / "install.sh").read_text()
    assert "groupadd --system" in install
    for g in groups:
        assert g in install.split("for g in ", 1)[1].split(";", 1)[0], f"{g}: not created by install.sh"
