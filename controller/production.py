"""Is a valid room file fit for a courtroom? ``vks-room config check`` refuses (exit 2, each key
named) a file that would install "successfully" into a room that does not work or is open:

* no panel users (the panel would be open to anyone on the network), or a user with no hash;
* an empty password (a device's, the broker's);
* placeholder devices: a documentation address (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
  ``*.example``) or a ``/dev/vks/...`` name that the udev rules give an adapter whose serial is
  still the placeholder (``CAMERA_ADAPTER_SERIAL``...).

A demonstration or bench room says so (``[room] demo = true``) and is not held to these rules.
"""
from __future__ import annotations

import ipaddress
import re
import urllib.parse
from pathlib import Path

from vksroom.controller.config import RoomConfig

UDEV_RULES = Path("/etc/udev/rules.d/99-vksroom-serial.rules")
PLACEHOLDER_SERIAL = re.compile(r"^[A-Z0-9_]*_SERIAL$")
DOC_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
                                                       "2001:db8::/32"))


def user_hash(value) -> str:
    """A panel user's password hash: the value itself, or a table's ``hash`` (users with roles)."""
    if isinstance(value, dict):
        value = value.get("hash", "")
    return value.strip() if isinstance(value, str) else ""


def udev_placeholders(rules: Path) -> dict[str, str]:
    """``/dev/<symlink>`` -> the placeholder serial of the rule that makes it."""
    try:
        text = rules.read_text(encoding="utf-8")
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        serial = re.search(r'ATTRS\{serial\}=="([^"]*)"', line)
        link = re.search(r'SYMLINK\+="([^"]+)"', line)
        if serial and link and PLACEHOLDER_SERIAL.match(serial.group(1)):
            found["/dev/" + link.group(1)] = serial.group(1)
    return found


def _placeholder_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "example" or host.endswith((".example", ".invalid")):
        return True
    try:
        return any(ipaddress.ip_address(host) in net for net in DOC_NETWORKS)
    except ValueError:
        return False


def _device_path(url: str) -> str:
    return url if url.startswith("/") else urllib.parse.urlsplit(url).path


def problems(cfg: RoomConfig, udev_rules: Path = UDEV_RULES) -> list[str]:
    """What keeps this room file from running a courtroom, each as ``key: why`` (none for a demo)."""
    if cfg.demo:
        return []
    out = []
    if not cfg.panel.users:
        out.append("panel.users: no panel users: the panel would be open to anyone on the network "
                   "(add one: vks-room panel-password NAME; or mark a demonstration room with [room] demo = true)")
    for user, value in cfg.panel.users.items():
        if not user_hash(value):
            out.append(f"panel.users.{user}: no password hash (vks-room panel-password {user})")
    if cfg.mqtt.username and not cfg.mqtt.password:
        out.append("mqtt.password: empty")
    if _placeholder_host(urllib.parse.urlsplit(cfg.mqtt.url).hostname):
        out.append(f"mqtt.url: {cfg.mqtt.url} is a placeholder address: the courts' broker goes here")
    links = udev_placeholders(udev_rules)
    for dev_id, d in cfg.devices.items():
        for key, value in sorted(d.options.items()):
            if "password" in key and isinstance(value, str) and not value:
                out.append(f"devices.{dev_id}.{key}: empty")
        urls = {"url": d.url, **{k: v for k, v in d.options.items() if k in ("video",) and isinstance(v, str)}}
        for key, url in urls.items():
            host = None if url.startswith("/") else urllib.parse.urlsplit(url).hostname
            path = _device_path(url)
            if _placeholder_host(host):
                out.append(f"devices.{dev_id}.{key}: {url} is a placeholder address: this room's device goes here")
            elif path in links:
                out.append(f"devices.{dev_id}.{key}: {path} comes from a udev rule whose adapter serial is still "
                           f"the placeholder {links[path]} ({udev_rules}: udevadm info -a {path})")
    return out
