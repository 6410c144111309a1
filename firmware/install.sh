#!/usr/bin/env bash
# Install or upgrade the room controller on a Raspberry Pi (Raspberry Pi OS Bookworm).
#   sudo firmware/install.sh [path/to/vksroom-*.whl]
# Without a wheel it builds one from this checkout. Idempotent: run it again to upgrade.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 2; }

apt-get install -y -qq python3-venv python3-lgpio >/dev/null || true
id vksroom >/dev/null 2>&1 || useradd --system --home /var/lib/vksroom --shell /usr/sbin/nologin vksroom
for g in dialout gpio; do getent group "$g" >/dev/null && usermod -aG "$g" vksroom; done

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
if /opt/vksroom/venv/bin/vks-room config check /etc/vksroom/room.toml; then
  # the panel's HTTPS certificate (made now by the service user when the court's CA gave none):
  # tell the technician its fingerprint, to compare with what the browser shows
  runuser -u vksroom -- /opt/vksroom/venv/bin/vks-room panel-cert --config /etc/vksroom/room.toml || true
else
  echo "install.sh: edit /etc/vksroom/room.toml, then: systemctl restart vksroom" >&2
fi

install -m 0644 "$here/udev/99-vksroom-serial.rules" /etc/udev/rules.d/
udevadm control --reload-rules && udevadm trigger --subsystem-match=tty || true
install -m 0644 "$here/systemd/vksroom.service" /etc/systemd/system/
systemctl daemon-reload
systemctl enable --now vksroom
echo "vksroom installed: systemctl status vksroom; panel on the port in /etc/vksroom/room.toml"
