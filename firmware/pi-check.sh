#!/usr/bin/env bash
# `make pi-check`: the install a Pi image build does, in an arm64 Debian bookworm root under qemu,
# then a smoke test in it. Not part of the default test suite (it takes minutes and root).
#   sudo firmware/pi-check.sh [ROOT]        ROOT default /var/tmp/vksroom-pi-root (kept: a rerun reuses it)
# Needs: debootstrap, qemu-user-static with binfmt_misc registered for aarch64 (apt install
# debootstrap qemu-user-static binfmt-support), root, and Debian's archive (or VKSROOM_MIRROR).
# Shows: install.sh exits 0 inside the chroot (no booted systemd: enable without --now), the
# release is /opt/vksroom/current, lgpio imports (gpiozero's pin factory on a Pi), `config check`
# refuses the example without `demo = true`, and the demo panel answers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
root="${1:-/var/tmp/vksroom-pi-root}"
mirror="${VKSROOM_MIRROR:-http://deb.debian.org/debian}"
say() { echo "pi-check: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (debootstrap and chroot need it)"
command -v debootstrap >/dev/null || fail "no debootstrap (apt install debootstrap)"
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
grep -q enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null \
  || fail "arm64 binaries cannot run here: no binfmt_misc entry for qemu-aarch64 (apt install qemu-user-static binfmt-support)"

if [ ! -x "$root/usr/bin/python3" ]; then
  say "debootstrap bookworm arm64 into $root (minutes under qemu)"
  # what an image has before the install: Python, systemd, udev; and, for plain Debian without
  # Internet, what builds lgpio from the bundle's sdist (swig, gcc, python3-dev)
  debootstrap --arch=arm64 --variant=minbase \
    --include=python3,python3-venv,python3-pip,systemd,udev,ca-certificates,swig,gcc,python3-dev,mosquitto \
    bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || fail "debootstrap (see $root.debootstrap.log)"
fi
[ "$(chroot "$root" uname -m)" = aarch64 ] || fail "the chroot does not run as aarch64"

# the offline bundle (the wheel, its arm64 dependencies, the installer), made here: the chroot
# installs with no index at all, as a Pi on a court network would
work="$root/root/vksroom"
rm -rf "$work"
say "firmware/bundle.sh $work"
bash "$here/bundle.sh" "$work" >"$root.bundle.log" 2>&1 || fail "bundle.sh (see $root.bundle.log)"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# /dev/pts too: the demo's codec and DSP simulators are on pseudo-terminals
for fs in proc sys dev dev/pts; do mountpoint -q "$root/$fs" || mount --bind "/$fs" "$root/$fs"; done
trap 'for fs in dev/pts dev sys proc; do umount -l "$root/$fs" 2>/dev/null || true; done' EXIT

say "install.sh --from the bundle in the chroot (as an image build runs it)"
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  bash /root/vksroom/firmware/install.sh --from /root/vksroom/wheels >"$root.install.log" 2>&1 \
  || { tail -30 "$root.install.log" >&2; fail "install.sh exited non-zero (log: $root.install.log)"; }
tail -3 "$root.install.log" >&2
run() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
[ -L "$root/opt/vksroom/current" ] || fail "no /opt/vksroom/current link"
run /opt/vksroom/current/bin/vks-room --version >&2
run /opt/vksroom/current/bin/python -c "import lgpio, gpiozero; print('lgpio', lgpio.LGPIO_PY_VERSION)" >&2 \
  || fail "lgpio does not import in the release"
[ -L "$root/etc/systemd/system/multi-user.target.wants/vksroom.service" ] || fail "vksroom.service not enabled"
getent -s files group gpio >/dev/null || run getent group gpio >/dev/null || fail "no gpio group"

sed '/^demo = true/d' "$root/etc/vksroom/room.toml" >"$root/tmp/room-as-is.toml"
if run /opt/vksroom/current/bin/vks-room config check /tmp/room-as-is.toml 2>/dev/null; then
  fail "config check passed the unfilled example without demo = true"
fi

say "smoke test: the demo room and its panel in the chroot"
run bash -c 'command -v mosquitto >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto' \
  >>"$root.install.log" 2>&1 || fail "could not install mosquitto (the demo's broker) in the chroot"
port=18080
run /opt/vksroom/current/bin/vks-room demo --port "$port" >"$root.demo.log" 2>&1 &
demo=$!
answered=no
for _ in $(seq 1 180); do   # under qemu the demo takes a while: cameras, references, first self-test
  if python3 -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:$port/api/readiness', timeout=3).status != 200)" 2>/dev/null; then
    answered=yes; break
  fi
  kill -0 "$demo" 2>/dev/null || break
  sleep 2
done
kill "$demo" 2>/dev/null || true
wait "$demo" 2>/dev/null || true
[ "$answered" = yes ] || { tail -20 "$root.demo.log" >&2; fail "the demo panel did not answer"; }
say "OK: install.sh exit 0 in arm64 bookworm, lgpio importable, example refused, demo panel answered"
