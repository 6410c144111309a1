"""Upgrade and rollback of the room controller, as firmware/release.py does them on the Pi: in a
temporary prefix, with small stand-in releases (a wheel whose `vks-room run` serves the panel's
readiness page, or a broken one that exits), a real process for "the service" and its panel on
loopback."""
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.releases import BROKEN, GOOD, fake_wheel

ROOT = Path(__file__).resolve().parents[2]
RELEASE = ROOT / "firmware" / "release.py"

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def site(tmp_path):
    """A prefix, a room file with a free panel port, and the service as a process started by a script."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / "room.toml").write_text(f"[panel]\nport = {port}\n")
    prefix, pid = tmp_path / "opt", tmp_path / "service.pid"
    restart = tmp_path / "restart.sh"
    restart.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        [ -f {pid} ] && kill $(cat {pid}) 2>/dev/null
        {prefix}/current/bin/vks-room run --config {tmp_path}/room.toml >>{tmp_path}/service.log 2>&1 &
        echo $! > {pid}
        """))
    restart.chmod(0o755)
    yield {"tmp": tmp_path, "prefix": prefix, "port": port, "restart": restart, "pid": pid}
    if pid.exists():
        subprocess.run(["sh", "-c", f"kill $(cat {pid}) 2>/dev/null"])


def release(site, *args, timeout=8):
    cmd = [sys.executable, str(RELEASE), "--prefix", str(site["prefix"]), "--config", str(site["tmp"] / "room.toml"),
           "--restart-cmd", str(site["restart"]), "--active-cmd", f"sh -c 'kill -0 $(cat {site['pid']})'",
           "--health-timeout", str(timeout), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=150)


def current(site):
    return os.readlink(site["prefix"] / "current")


def answers(site, scheme="http") -> str:
    import ssl
    import urllib.request

    context = ssl._create_unverified_context() if scheme == "https" else None
    with urllib.request.urlopen(f"{scheme}://127.0.0.1:{site['port']}/api/readiness", timeout=5,
                                context=context) as r:
        return r.read().decode()


def test_an_upgrade_installs_beside_switches_restarts_and_keeps_the_previous(site):
    wheels = site["tmp"] / "wheels"
    wheels.mkdir()
    first = release(site, "install", "--offline", "--find-links", str(wheels),
                    "--wheel", str(fake_wheel(wheels, "1.0.0", GOOD)))
    assert first.returncode == 0, first.stderr
    assert current(site) == "releases/1.0.0" and answers(site) == "1.0.0"
    second = release(site, "install", "--offline", "--find-links", str(wheels),
                     "--wheel", str(fake_wheel(wheels, "1.1.0", GOOD)))
    assert second.returncode == 0, second.stderr
    assert current(site) == "releases/1.1.0" and answers(site) == "1.1.0"        # restarted on the new code
    assert os.readlink(site["prefix"] / "previous") == "releases/1.0.0"
    assert (site["prefix"] / "releases" / "1.0.0" / "bin" / "vks-room").exists()  # kept to go back to
    listed = release(site, "list").stdout.split("\n")
    assert "1.1.0  current" in listed and "1.0.0  previous" in listed


def test_a_broken_release_is_rolled_back_to_the_one_that_worked(site):
    wheels = site["tmp"] / "wheels"
    wheels.mkdir()
    assert release(site, "install", "--offline", "--wheel", str(fake_wheel(wheels, "1.0.0", GOOD))).returncode == 0
    broken = release(site, "install", "--offline", "--wheel", str(fake_wheel(wheels, "2.0.0", BROKEN)), timeout=4)
    assert broken.returncode == 1
    assert "rolling back to 1.0.0" in broken.stderr and "rolled back to 1.0.0\n" in broken.stderr
    assert current(site) == "releases/1.0.0" and answers(site) == "1.0.0"        # the room runs again
    assert "this release is broken" in (site["tmp"] / "service.log").read_text()
    # a later rollback by hand does not go back to the broken release
    assert "2.0.0  broken" in release(site, "list").stdout.split("\n")
    again = release(site, "rollback")
    assert again.returncode == 1 and current(site) == "releases/1.0.0"


def test_a_panel_on_https_with_its_own_certificate_is_found_healthy(site):
    """The room serves its panel over HTTPS with a certificate it made itself (off loopback, or
    `tls = true`): the health check must reach it there, or every upgrade would be rolled back."""
    from vksroom.web.server import make_certificate

    cert, key = site["tmp"] / "panel-cert.pem", site["tmp"] / "panel-key.pem"
    make_certificate(cert, key, "127.0.0.1")
    (site["tmp"] / "room.toml").write_text(
        f'[panel]\nport = {site["port"]}\ntls = true\ncert_file = "{cert}"\nkey_file = "{key}"\n')
    wheels = site["tmp"] / "wheels"
    wheels.mkdir()
    done = release(site, "install", "--offline", "--wheel", str(fake_wheel(wheels, "1.0.0", GOOD)))
    assert done.returncode == 0, done.stderr
    assert "1.0.0 is running and healthy" in done.stderr
    assert answers(site, "https") == "1.0.0"


def test_in_an_image_build_the_link_is_switched_and_nothing_restarted(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    done = subprocess.run([sys.executable, str(RELEASE), "--prefix", str(tmp_path / "opt"), "--no-restart",
                           "install", "--offline", "--wheel", str(fake_wheel(wheels, "1.0.0", BROKEN))],
                          capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stderr
    assert "not restarting" in done.stderr
    assert os.readlink(tmp_path / "opt" / "current") == "releases/1.0.0"
