#!/usr/bin/env bash
# `make pi-check`: the Pi image's stage (firmware/pi-gen/stage-vksroom) run as pi-gen runs it, on an
# arm64 Debian bookworm root under qemu, then a smoke test in the root it made. Not part of the
# default test suite (it takes minutes and root).
#   sudo firmware/pi-check.sh [ROOT]   ROOT: the base, default /var/tmp/vksroom-pi-root (debootstrap;
#                                      kept, never installed into: a rerun reuses it)
# The stage works in a copy of it, VKSROOM_PI_WORK (default /var/tmp/vksroom-pi-work), made again
# on each run (pi-gen's CLEAN=1); its logs are there (bundle.log, stage.log, demo.log).
# Needs: debootstrap, qemu-user-static with binfmt_misc registered for aarch64 (apt install
# debootstrap qemu-user-static binfmt-support), root, and Debian's archive (or VKSROOM_MIRROR).
# Shows: the stage's install.sh --from the bundle exits 0 inside the chroot (no booted systemd:
# enable without --now), the bundle is not left in the image, the release is /opt/vksroom/current,
# lgpio imports (gpiozero's pin factory on a Pi), the unit is enabled, the gpio group exists with
# vksroom in it, `config check` refuses the example without `demo = true`, the demo panel answers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
root="${1:-/var/tmp/vksroom-pi-root}"
mirror="${VKSROOM_MIRROR:-http://deb.debian.org/debian}"
say() { echo "pi-check: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (debootstrap and chroot need it)"
command -v debootstrap >/dev/null || fail "no debootstrap (apt install debootstrap)"
command -v capsh >/dev/null || fail "no capsh (apt install libcap2-bin): pi-gen's on_chroot uses it"
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

# The stage's root starts as a copy of this one (pi-gen: copy_previous from stage2), so the base
# must be what debootstrap made: a root an older pi-check installed into would pass for free.
[ ! -e "$root/opt/vksroom" ] || fail "$root was installed into (an older pi-check): remove it and run again"

# the offline bundle (the wheel, its arm64 dependencies, the installer), made here: pip in the image
# installs with no index at all, as a Pi on a court network would
work="${VKSROOM_PI_WORK:-/var/tmp/vksroom-pi-work}"
mkdir -p "$work"
rm -rf "$work/bundle"
say "firmware/bundle.sh $work/bundle"
bash "$here/bundle.sh" "$work/bundle" >"$work/bundle.log" 2>&1 || fail "bundle.sh (see $work/bundle.log)"

# The image stage, run as pi-gen runs it (firmware/pi-gen/run-stage.sh: prerun.sh's copy_previous,
# 00-packages-nr, 00-run.sh on this machine, 00-run-chroot.sh fed to bash -e in the root, with the
# environment `sudo ./build.sh` gives a stage and VKSROOM_BUNDLE exported as pi-gen's config would)
stage="$here/pi-gen/stage-vksroom"
rootfs="$work/stage-vksroom/rootfs"
say "pi-gen stage $stage on a copy of $root (install.sh --from the bundle in the chroot)"
env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  WORK_DIR="$work" PREV_ROOTFS_DIR="$root" VKSROOM_BUNDLE="$work/bundle" \
  bash "$here/pi-gen/run-stage.sh" "$stage" >"$work/stage.log" 2>&1 \
  || { tail -30 "$work/stage.log" >&2; fail "the stage failed: install.sh or a step before it (log: $work/stage.log)"; }
grep -E '^vksroom .* installed into the image' "$work/stage.log" >&2 \
  || fail "install.sh did not say it installed into the image (log: $work/stage.log)"
grep -E 'pi-gen would export' "$work/stage.log" >&2 || true
[ ! -e "$rootfs/root/vksroom-bundle" ] || fail "the bundle was left in the image"

# the smoke test, in the stage's root; /dev/pts too: the demo's codec and DSP simulators are on ptys
cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
for fs in proc sys dev dev/pts; do mountpoint -q "$rootfs/$fs" || mount --bind "/$fs" "$rootfs/$fs"; done
trap 'for fs in dev/pts dev sys proc; do umount -l "$rootfs/$fs" 2>/dev/null || true; done' EXIT
root="$rootfs"
run() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
[ -L "$root/opt/vksroom/current" ] || fail "no /opt/vksroom/current link"
run /opt/vksroom/current/bin/vks-room --version >&2
run /opt/vksroom/current/bin/python -c "import lgpio, gpiozero; print('lgpio', lgpio.LGPIO_PY_VERSION)" >&2 \
  || fail "lgpio does not import in the release"
[ -L "$root/etc/systemd/system/multi-user.target.wants/vksroom.service" ] || fail "vksroom.service not enabled"
grep -q '^gpio:' "$root/etc/group" || fail "no gpio group in the image"
grep -q '^gpio:.*vksroom' "$root/etc/group" || fail "vksroom is not in the gpio group"

sed '/^demo = true/d' "$root/etc/vksroom/room.toml" >"$root/tmp/room-as-is.toml"
if run /opt/vksroom/current/bin/vks-room config check /tmp/room-as-is.toml 2>/dev/null; then
  fail "config check passed the unfilled example without demo = true"
fi

say "smoke test: the demo room and its panel in the chroot"
run bash -c 'command -v mosquitto >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto' \
  >>"$work/smoke.log" 2>&1 || fail "could not install mosquitto (the demo's broker) in the chroot"
port=18080
run /opt/vksroom/current/bin/vks-room demo --port "$port" >"$work/demo.log" 2>&1 &
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
[ "$answered" = yes ] || { tail -20 "$work/demo.log" >&2; fail "the demo panel did not answer"; }
say "OK in $((SECONDS / 60)) min $((SECONDS % 60)) s: the pi-gen stage ran install.sh --from the bundle (exit 0) in arm64 bookworm; lgpio importable, unit enabled, example refused, demo panel answered"
