#!/usr/bin/env bash
# Install or upgrade the room controller on a Raspberry Pi (Raspberry Pi OS or Debian bookworm,
# arm64), on a running Pi or inside an image build (a chroot: no booted systemd).
#   sudo firmware/install.sh [path/to/vksroom-*.whl]     the wheel (default: built from this checkout)
#   sudo firmware/install.sh --from DIR                  offline: the bundle made by firmware/bundle.sh
# Each version is a release of its own: /opt/vksroom/releases/VERSION, /opt/vksroom/current the one
# that runs. On a running Pi the service is restarted and checked (active after READY=1, the panel
# answers); when it is not healthy the previous release comes back and this exits 1.
# Idempotent: run it again to upgrade. Environment: VKSROOM_PREFIX (default /opt/vksroom).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
prefix="${VKSROOM_PREFIX:-/opt/vksroom}"
from="" wheel=""
while [ $# -gt 0 ]; do
  case "$1" in
    --from) from="$(cd "$2" && pwd)"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) wheel="$1"; shift ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 2; }
booted=no; [ -d /run/systemd/system ] && booted=yes   # systemd runs this machine (not an image build)

# Debian packages, in separate calls so that one missing package cannot make apt install nothing.
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; }
apt_has() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }
if [ -n "$from" ]; then   # offline: nothing from apt; say what is missing instead of failing later
  python3 -c 'import venv, ensurepip' 2>/dev/null \
    || { echo "install.sh: python3-venv is missing (apt install python3-venv, or put it in the image)" >&2; exit 1; }
elif command -v apt-get >/dev/null; then
  apt_install python3-venv python3-pip        # required: a failure stops the install here
  if apt_has python3-lgpio; then
    apt_install python3-lgpio                 # Raspberry Pi OS: its archive builds lgpio
  elif [ "$(uname -m)" = aarch64 ]; then
    apt_install swig gcc python3-dev          # plain Debian on a Pi: lgpio from PyPI, built here
  fi
fi

id vksroom >/dev/null 2>&1 || useradd --system --home /var/lib/vksroom --shell /usr/sbin/nologin vksroom
# The unit's SupplementaryGroups must exist (plain Debian has no gpio group: the unit would not start).
for g in dialout gpio; do
  getent group "$g" >/dev/null || groupadd --system "$g"
  usermod -aG "$g" vksroom
done

if [ -z "$wheel" ] && [ -n "$from" ]; then
  wheel="$(ls "$from"/vksroom-*.whl | sort -V | tail -1)"
elif [ -z "$wheel" ]; then
  tmp="$(mktemp -d)"
  python3 -m pip wheel --no-deps -q -w "$tmp" "$repo"
  wheel="$(ls "$tmp"/vksroom-*.whl)"
fi
release=(python3 "$here/release.py" --prefix "$prefix")
if [ -n "$from" ]; then
  "${release[@]}" --no-restart install --wheel "$wheel" --offline --find-links "$from"
else
  "${release[@]}" --no-restart install --wheel "$wheel"
fi

install -d -o vksroom -g vksroom -m 0750 /var/lib/vksroom
install -d -m 0755 /etc/vksroom
[ -f /etc/vksroom/room.toml ] || install -m 0640 -g vksroom "$here/room.example.toml" /etc/vksroom/room.toml
install -m 0644 "$here/udev/99-vksroom-serial.rules" "$here/udev/60-vksroom-gpio.rules" /etc/udev/rules.d/
# The data directory ([room] data_dir): under a read-only root it is a writable partition
# (docs/read-only-root.md); the unit (ProtectSystem=strict) may write there and waits for its mount.
data_dir="$(python3 -c 'import sys, tomllib
print(tomllib.load(open(sys.argv[1], "rb")).get("room", {}).get("data_dir", "/var/lib/vksroom"))' \
  /etc/vksroom/room.toml 2>/dev/null || echo /var/lib/vksroom)"
dropin=/etc/systemd/system/vksroom.service.d/data-dir.conf
if [ "$data_dir" != /var/lib/vksroom ]; then
  install -d -o vksroom -g vksroom -m 0750 "$data_dir"
  install -d "$(dirname "$dropin")"
  printf '[Unit]\nRequiresMountsFor=%s\n\n[Service]\nReadWritePaths=%s\n' "$data_dir" "$data_dir" >"$dropin"
else
  rm -f "$dropin"
fi
configured=yes
"$prefix/current/bin/vks-room" config check /etc/vksroom/room.toml || configured=no
# the panel's HTTPS certificate (made now by the service user when the court's CA gave none):
# tell the technician its fingerprint, to compare with what the browser shows
[ "$configured" = no ] || runuser -u vksroom -- "$prefix/current/bin/vks-room" panel-cert \
  --config /etc/vksroom/room.toml || true
grep -q '^demo *= *true' /etc/vksroom/room.toml \
  && echo "install.sh: /etc/vksroom/room.toml is still the example (demo = true): fill it in" >&2

sed "s#/opt/vksroom/#$prefix/#g" "$here/systemd/vksroom.service" >/etc/systemd/system/vksroom.service
install -d /etc/systemd/system.conf.d /etc/systemd/system/systemd-time-wait-sync.service.d
install -m 0644 "$here/systemd/system.conf.d/vksroom-watchdog.conf" /etc/systemd/system.conf.d/   # hardware watchdog
install -m 0644 "$here/systemd/systemd-time-wait-sync.service.d/vksroom-bound.conf" \
  /etc/systemd/system/systemd-time-wait-sync.service.d/
# enable only links units: it works without a booted systemd (an image build); --now would not
systemctl enable vksroom.service systemd-time-wait-sync.service

if [ "$booted" = no ]; then
  echo "vksroom $(basename "$(readlink "$prefix/current")") installed into the image; it starts at boot"
  exit 0
fi
udevadm control --reload-rules && udevadm trigger --subsystem-match=tty --subsystem-match=gpio || true
systemctl daemon-reload
if [ "$configured" = no ]; then
  echo "install.sh: edit /etc/vksroom/room.toml (see the keys above), then: $here/release.py activate" >&2
  exit 1
fi
"${release[@]}" activate   # restart, health check, rollback to the previous release when unhealthy
echo "vksroom installed: systemctl status vksroom; panel on the port in /etc/vksroom/room.toml"
