#!/usr/bin/env bash
# Install or upgrade the room controller on a Raspberry Pi (Raspberry Pi OS Bookworm).
#   sudo firmware/install.sh [path/to/vksroom-*.whl]
# Without a wheel it builds one from this checkout. Idempotent: run it again to upgrade.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 2; }

# Debian packages, in separate calls so that one missing package cannot make apt install nothing.
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; }
apt_has() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }
if command -v apt-get >/dev/null; then
  apt_install python3-venv python3-pip        # required: a failure stops the install here
  if apt_has python3-lgpio; then
    apt_install python3-lgpio                 # Raspberry Pi OS: its archive builds lgpio
  elif [ "$(uname -m)" = aarch64 ]; then
    apt_install swig gcc python3-dev          # plain Debian on a Pi: lgpio from PyPI, built here
  fi
fi
export PYPI=1   # lgpio built from its sdist links its C library in (plain Debian has no liblgpio)
id vksroom >/dev/null 2>&1 || useradd --system --home /var/lib/vksroom --shell /usr/sbin/nologin vksroom
# The unit's SupplementaryGroups must exist (plain Debian has no gpio group: the unit would not start).
for g in dialout gpio; do
  getent group "$g" >/dev/null || groupadd --system "$g"
  usermod -aG "$g" vksroom
done

wheel="${1:-}"
if [ -z "$wheel" ]; then
  tmp="$(mktemp -d)"
  python3 -m pip wheel --no-deps -q -w "$tmp" "$repo"
  wheel="$(ls "$tmp"/vksroom-*.whl)"
fi
python3 -m venv --system-site-packages /opt/vksroom/venv   # system lgpio for gpiozero on the Pi
/opt/vksroom/venv/bin/pip install -q --upgrade "$wheel"

install -d -o vksroom -g vksroom -m 0750 /var/lib/vksroom
install -d -m 0755 /etc/vksroom
[ -f /etc/vksroom/room.toml ] || install -m 0640 -g vksroom "$here/room.example.toml" /etc/vksroom/room.toml
/opt/vksroom/venv/bin/vks-room config check /etc/vksroom/room.toml || {
  echo "install.sh: edit /etc/vksroom/room.toml, then: systemctl restart vksroom" >&2; }

install -m 0644 "$here/udev/99-vksroom-serial.rules" "$here/udev/60-vksroom-gpio.rules" /etc/udev/rules.d/
udevadm control --reload-rules && udevadm trigger --subsystem-match=tty || true
install -m 0644 "$here/systemd/vksroom.service" /etc/systemd/system/
install -d /etc/systemd/system.conf.d /etc/systemd/system/systemd-time-wait-sync.service.d
install -m 0644 "$here/systemd/system.conf.d/vksroom-watchdog.conf" /etc/systemd/system.conf.d/   # hardware watchdog
install -m 0644 "$here/systemd/systemd-time-wait-sync.service.d/vksroom-bound.conf" \
  /etc/systemd/system/systemd-time-wait-sync.service.d/
systemctl daemon-reload
systemctl enable --now vksroom
echo "vksroom installed: systemctl status vksroom; panel on the port in /etc/vksroom/room.toml"
