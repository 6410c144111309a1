#!/usr/bin/env python3
"""Releases of the room controller side by side, switched by one link, rolled back when unhealthy.

    <prefix>/releases/<VERSION>/   one virtual environment per release (the wheel and its deps)
    <prefix>/current -> releases/<VERSION>      what the unit runs (<prefix>/current/bin/vks-room)
    <prefix>/previous -> releases/<VERSION>     what a rollback goes back to

``install`` builds the new release's environment beside the running one (the room keeps running
meanwhile), switches ``current`` atomically (a new link renamed over the old), restarts the
service and checks its health: the service is active (for Type=notify: it said READY=1) and the
panel answers. When it does not within the time, ``current`` goes back to the previous release,
which is restarted, and the install fails (exit 1). In an image build (no booted systemd) nothing
is restarted. Run by firmware/install.sh with the system's python3 (stdlib only).

    release.py install --wheel W.whl [--find-links DIR --offline] [--prefix /opt/vksroom]
    release.py activate | rollback | list | health
"""
from __future__ import annotations

import argparse
import os
import shlex
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

KEEP = 3   # releases kept on disk: current, previous and one more
COMPLETE = ".complete"
BROKEN = ".broken"   # written in a release that was rolled back: never gone back to


def log(msg: str) -> None:
    print(f"release: {msg}", file=sys.stderr, flush=True)


def booted_systemd() -> bool:
    """systemd runs this machine (not a chroot, an image build, a container without it)."""
    return Path("/run/systemd/system").is_dir()


def wheel_version(wheel: Path) -> str:
    """The version a wheel's file name says (name-VERSION-...whl)."""
    parts = wheel.name[:-len(".whl")].split("-")
    if len(parts) < 5 or not wheel.name.endswith(".whl"):
        raise SystemExit(f"release: {wheel.name} is not a wheel's file name")
    with zipfile.ZipFile(wheel) as z:   # a truncated download fails here, not half-way through pip
        z.testzip()
    return parts[1]


class Releases:
    def __init__(self, prefix: Path):
        self.prefix = prefix
        self.dir = prefix / "releases"
        self.current = prefix / "current"
        self.previous = prefix / "previous"

    def version_of(self, link: Path) -> str | None:
        return os.readlink(link).rsplit("/", 1)[-1] if link.is_symlink() else None

    def versions(self) -> list[str]:
        if not self.dir.is_dir():
            return []
        return sorted((p.name for p in self.dir.iterdir() if (p / COMPLETE).exists()),
                      key=lambda v: (self.dir / v).stat().st_mtime)

    def point(self, link: Path, version: str) -> None:
        """``link`` -> releases/<version>, switched in one rename (never missing, never half-made)."""
        tmp = link.with_name(link.name + ".new")
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        tmp.symlink_to(Path("releases") / version)
        os.replace(tmp, link)

    def build(self, wheel: Path, version: str, find_links: list[str], offline: bool, python: str) -> Path:
        """The release's environment, made beside the others (the running one is not touched).
        ``.complete`` is written last: a release without it (a power cut, a failed pip) is made again."""
        target = self.dir / version
        if (target / COMPLETE).exists():
            log(f"{version} is already built")
            return target
        shutil.rmtree(target, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        # --system-site-packages: Raspberry Pi OS's python3-lgpio, where the Pi archive has it
        subprocess.run([python, "-m", "venv", "--system-site-packages", str(target)], check=True)
        pip = [str(target / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        for d in find_links:
            pip += ["--find-links", d]
        if offline:
            pip += ["--no-index"]
        done = subprocess.run([*pip, str(wheel)], env={**os.environ, "PYPI": "1"})   # PYPI=1: lgpio static
        if done.returncode != 0:
            shutil.rmtree(target, ignore_errors=True)
            raise SystemExit(f"release: pip could not install {wheel.name} (exit {done.returncode})")
        (target / COMPLETE).write_text(f"{wheel.name}\n")
        return target

    def prune(self) -> None:
        keep = {self.version_of(self.current), self.version_of(self.previous)}
        old = [v for v in self.versions() if v not in keep]
        for v in old[:max(0, len(old) - (KEEP - 2))]:
            shutil.rmtree(self.dir / v, ignore_errors=True)
            log(f"removed the old release {v}")


class Service:
    """The systemd unit, or commands that stand in for it (tests, other init systems)."""

    def __init__(self, args):
        unit = args.unit
        self.restart_cmd = args.restart_cmd or f"systemctl restart {unit}"
        self.active_cmd = args.active_cmd or f"systemctl is-active --quiet {unit}"
        self.health_url = args.health_url
        self.timeout = args.health_timeout

    def restart(self) -> bool:
        return subprocess.run(shlex.split(self.restart_cmd)).returncode == 0

    def healthy(self) -> bool:
        """Within the time: the service is active (Type=notify: it sent READY=1) and the panel answers."""
        deadline = time.monotonic() + self.timeout
        active = False
        while time.monotonic() < deadline:
            active = active or subprocess.run(shlex.split(self.active_cmd)).returncode == 0
            if active and self._panel_answers():
                return True
            time.sleep(0.5)   # polling another process: there is nothing of ours to wait on
        log("not active" if not active else f"the panel does not answer at {self.health_url}")
        return False

    def _panel_answers(self) -> bool:
        if not self.health_url:
            return True
        # the room's own certificate (made at first run) is not one this machine trusts: the check
        # asks whether the room answers on this machine, not who it is
        context = ssl._create_unverified_context() if self.health_url.startswith("https:") else None
        try:
            with urllib.request.urlopen(self.health_url, timeout=3, context=context) as r:
                return r.status == 200
        except OSError:
            return False


def panel_url(config: Path) -> str:
    """The panel's readiness page, from the room file (on loopback whatever address it serves).
    HTTPS as the room serves it (controller/config.py PanelConfig.https): ``[panel] tls`` when
    set, else on unless the panel listens on loopback only."""
    try:
        import tomllib

        panel = tomllib.loads(config.read_text(encoding="utf-8")).get("panel", {})
    except (OSError, ValueError, ImportError):
        panel = {}
    host = panel.get("host", "127.0.0.1")
    tls = panel.get("tls")
    https = tls if isinstance(tls, bool) else not _loopback(host)
    host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"{'https' if https else 'http'}://{host}:{panel.get('port', 8080)}/api/readiness"


def _loopback(host: str) -> bool:
    import ipaddress

    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_install(args) -> int:
    """Build the wheel's release beside the others and make it current; then (unless there is
    nothing to restart) :func:`cmd_activate`."""
    rel = Releases(Path(args.prefix))
    wheel = Path(args.wheel)
    version = wheel_version(wheel)
    before = rel.version_of(rel.current)
    rel.build(wheel, version, args.find_links or [], args.offline, args.python)
    if before == version:
        log(f"{version} is the current release already")
    else:
        if before:
            rel.point(rel.previous, before)
        rel.point(rel.current, version)
        log(f"current -> {version}" + (f" (previous {before})" if before else ""))
    if args.no_restart or not (args.restart_cmd or booted_systemd()):
        log("not restarting here (--no-restart)" if args.no_restart
            else "not restarting (no booted systemd: an image build?); the service starts at boot")
        rel.prune()
        return 0
    return cmd_activate(args)


def cmd_activate(args) -> int:
    """Restart the service on the current release and check its health; when it is not healthy,
    go back to the previous release (restarted) and fail."""
    rel = Releases(Path(args.prefix))
    version, before = rel.version_of(rel.current), rel.version_of(rel.previous)
    svc = Service(args)
    if svc.restart() and svc.healthy():
        log(f"{version} is running and healthy")
        rel.prune()
        return 0
    if not before or before == version or not (rel.dir / before / COMPLETE).exists():
        log(f"{version} is not healthy and there is no previous release to go back to")
        return 1
    log(f"{version} is not healthy: rolling back to {before}")
    rel.point(rel.current, before)
    # The broken release is not what a later rollback should go back to: marked, and no previous.
    (rel.dir / version / BROKEN).write_text("not healthy after its restart; rolled back\n")
    rel.previous.unlink(missing_ok=True)
    ok = svc.restart() and svc.healthy()
    log(f"rolled back to {before}" + ("" if ok else ", which is not healthy either"))
    return 1


def cmd_rollback(args) -> int:
    rel = Releases(Path(args.prefix))
    back, now = rel.version_of(rel.previous), rel.version_of(rel.current)
    if not back or not (rel.dir / back).is_dir():
        log("no previous release")
        return 1
    if (rel.dir / back / BROKEN).exists():
        log(f"the previous release {back} was rolled back as broken: not going back to it")
        return 1
    rel.point(rel.current, back)
    if now:
        rel.point(rel.previous, now)
    log(f"current -> {back}")
    if not args.no_restart and (args.restart_cmd or booted_systemd()):
        svc = Service(args)
        return 0 if svc.restart() and svc.healthy() else 1
    return 0


def cmd_list(args) -> int:
    rel = Releases(Path(args.prefix))
    cur, prev = rel.version_of(rel.current), rel.version_of(rel.previous)
    for v in rel.versions():
        broken = "  broken" if (rel.dir / v / BROKEN).exists() else ""
        print(f"{v}{'  current' if v == cur else ''}{'  previous' if v == prev else ''}{broken}")
    return 0


def cmd_health(args) -> int:
    return 0 if Service(args).healthy() else 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="release.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--prefix", default="/opt/vksroom")
    p.add_argument("--unit", default="vksroom")
    p.add_argument("--config", default="/etc/vksroom/room.toml", help="the room file (the panel's port)")
    p.add_argument("--restart-cmd", help="instead of systemctl restart UNIT")
    p.add_argument("--active-cmd", help="instead of systemctl is-active UNIT")
    p.add_argument("--health-url", help="the panel page that must answer 200 (default: from --config)")
    p.add_argument("--health-timeout", type=float, default=90.0)
    p.add_argument("--no-restart", action="store_true", help="switch the link only (an image build)")
    sub = p.add_subparsers(dest="command", required=True)
    i = sub.add_parser("install")
    i.add_argument("--wheel", required=True)
    i.add_argument("--find-links", action="append", help="a folder of wheels (an offline bundle)")
    i.add_argument("--offline", action="store_true", help="nothing from an index: only --find-links")
    i.add_argument("--python", default=sys.executable, help="the Python the release's venv is made with")
    i.set_defaults(func=cmd_install)
    sub.add_parser("activate", help="restart on the current release; back to the previous one if unhealthy"
                   ).set_defaults(func=cmd_activate)
    sub.add_parser("rollback").set_defaults(func=cmd_rollback)
    sub.add_parser("list").set_defaults(func=cmd_list)
    sub.add_parser("health").set_defaults(func=cmd_health)
    args = p.parse_args(argv)
    args.health_url = args.health_url or panel_url(Path(args.config))
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
