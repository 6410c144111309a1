#!/usr/bin/env bash
# `make systemd-check`: the running Pi's install, upgrade and rollback against a real systemd, the
# real unit (firmware/systemd/vksroom.service: Type=notify, User=vksroom, ProtectSystem=strict,
# the watchdog) and the real room: this machine's own OS booted in a container
# (systemd-nspawn -b, systemd as its PID 1) over a throw-away overlay, no network but loopback.
#   sudo firmware/systemd-check.sh [BUNDLE]     BUNDLE: made by firmware/bundle.sh (default: made now)
# Needs: root, systemd-nspawn (apt install systemd-container), overlayfs, a Debian bookworm host
# with python3-venv (its architecture's half of the bundle is used: x86-64 here, arm64 on a Pi).
# Not in `make test` (a minute or two, root). Shows, each through firmware/install.sh or release.py:
#   1. install.sh --from the bundle on a booted systemd: restart, READY=1, the panel answers
#      (HTTPS with the room's own certificate), exit 0;
#   2. an upgrade to another version: the unit runs the new release, the old one is kept;
#   3. a broken release (its vks-room exits at once): rolled back, the room runs again, exit 1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
say() { echo "systemd-check: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (nspawn and the overlay need it)"
command -v systemd-nspawn >/dev/null || fail "no systemd-nspawn (apt install systemd-container)"

top="$(mktemp -d /run/vksroom-systemd-check.XXXXXX)"   # upper layer on a tmpfs: not inside the lower
tree="$top/root"
nspawn=""
leader=""
cleanup() {   # the container powered off (SIGRTMIN+3 to its systemd), nspawn killed if it lingers
  if [ -n "$nspawn" ]; then
    [ -z "$leader" ] || kill -s RTMIN+3 "$leader" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$nspawn" 2>/dev/null || true
    wait "$nspawn" 2>/dev/null || true
  fi
  umount "$tree" 2>/dev/null || true
  umount "$top" 2>/dev/null || true
  rmdir "$top" 2>/dev/null || true
}
trap cleanup EXIT
mount -t tmpfs -o size=4G tmpfs "$top"
mkdir -p "$top/upper" "$top/work" "$tree"
mount -t overlay overlay -o "lowerdir=/,upperdir=$top/upper,workdir=$top/work" "$tree"
systemd-id128 new >"$tree/etc/machine-id"   # its own journal, not the host's
rm -rf "$tree/opt/vksroom" "$tree/etc/vksroom"

bundle="$tree/root/bundle"
if [ -n "${1:-}" ]; then
  cp -r "$1" "$bundle"
else
  say "firmware/bundle.sh (the wheel built here and its dependencies)"
  bash "$here/bundle.sh" "$bundle" >"$top/bundle.log" 2>&1 || { tail -20 "$top/bundle.log" >&2; fail "bundle.sh"; }
fi
say "an upgrade's wheel (the same code, version 99.0.0) and a broken release's (99.0.1)"
SETUPTOOLS_SCM_PRETEND_VERSION=99.0.0 python3 -m pip wheel -q --no-deps -w "$tree/root/up" "$repo" >&2
PYTHONPATH="$repo/tests" python3 -c "import sys; from pathlib import Path; from support.releases import BROKEN, fake_wheel
fake_wheel(Path(sys.argv[1]), '99.0.1', BROKEN)" "$tree/root/up"

say "booting this machine's OS in a container (systemd-nspawn -b, private network)"
systemd-nspawn -D "$tree" --register=no --keep-unit --private-network -M vksroom-check \
  --console=passive -b -- systemd.unit=basic.target >"$top/boot.log" 2>&1 &
nspawn=$!
for _ in $(seq 1 100); do   # nspawn's child is the container's PID 1 once it has forked
  leader="$(ps -o pid= --ppid "$nspawn" | tr -d ' ' | head -1 || true)"
  [ -n "$leader" ] && nsenter -t "$leader" -a test -S /run/systemd/private 2>/dev/null && break
  kill -0 "$nspawn" 2>/dev/null || { cat "$top/boot.log" >&2; fail "the container did not boot"; }
  sleep 0.2   # another process's start: nothing of ours to wait on
done
inside() { nsenter -t "$leader" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
inside systemctl is-system-running --wait >&2 || true   # "degraded" is fine: host units that need hardware
release=(inside python3 /root/bundle/firmware/release.py)
main_release() {   # the interpreter the unit's main process runs: releases/VERSION/bin/python
  inside cat "/proc/$(inside systemctl show vksroom -p MainPID --value)/cmdline" | tr '\0' '\n' | head -1
}

say "1. install.sh --from the bundle on a booted systemd"
inside bash /root/bundle/firmware/install.sh --from /root/bundle/wheels >"$top/install.log" 2>&1 \
  || { tail -30 "$top/install.log" >&2; fail "install.sh exited non-zero on a booted systemd"; }
grep -E 'is running and healthy' "$top/install.log" >&2 || fail "install.sh did not check the room's health"
first="$(inside readlink /opt/vksroom/current)"
inside systemctl is-active --quiet vksroom || fail "vksroom.service is not active after install.sh"
inside journalctl -u vksroom -p warning --no-pager -q -n 3 >&2 || true   # the room's own priorities

say "2. an upgrade: release.py install (what install.sh runs)"
"${release[@]}" install --wheel /root/up/vksroom-99.0.0-py3-none-any.whl --offline --find-links /root/bundle/wheels \
  >"$top/upgrade.log" 2>&1 || { cat "$top/upgrade.log" >&2; fail "the upgrade was not healthy"; }
[ "$(inside readlink /opt/vksroom/current)" = releases/99.0.0 ] || fail "current is not the upgrade"
[ "$(inside readlink /opt/vksroom/previous)" = "$first" ] || fail "the release before is not kept as previous"
case "$(main_release)" in */releases/99.0.0/*) ;; *) fail "the unit does not run the new release: $(main_release)" ;; esac
inside /opt/vksroom/current/bin/vks-room --version >&2

say "3. a broken release: rolled back"
if "${release[@]}" install --wheel /root/up/vksroom-99.0.1-py3-none-any.whl --offline >"$top/broken.log" 2>&1; then
  fail "a release that cannot start was found healthy"
fi
grep -q 'rolled back to 99.0.0$' "$top/broken.log" || { cat "$top/broken.log" >&2; fail "no rollback to 99.0.0"; }
[ "$(inside readlink /opt/vksroom/current)" = releases/99.0.0 ] || fail "current is not the release rolled back to"
inside systemctl is-active --quiet vksroom || fail "the room does not run after the rollback"
case "$(main_release)" in */releases/99.0.0/*) ;; *) fail "the unit runs $(main_release) after the rollback" ;; esac
inside journalctl -u vksroom --no-pager -q | grep -m1 'this release is broken' >&2 || true
say "OK in ${SECONDS} s: real systemd $(inside systemctl --version | head -1 | cut -d' ' -f2): install healthy, upgrade to 99.0.0, broken 99.0.1 rolled back"
