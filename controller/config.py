"""The room configuration: one TOML file, validated on load.

Every problem is reported with the key path and what is wrong, all at once, e.g.::

    devices.cam_judge.url: unknown scheme 'http' (use visca-ip://, visca-tcp://, ..., onvif://, onvif-https://)

Each device ``type`` is a kind declared in :mod:`vksroom.controller.devices.kinds`: its keys,
URL schemes, models and its own rules (checked by its adapter's module) come from there.

:func:`load` raises :class:`ConfigInvalid` (its ``errors`` list holds each message) and
changes nothing; a config is either wholly valid or not used.
"""
from __future__ import annotations

import dataclasses
import re
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigInvalid(ValueError):
    def __init__(self, errors: list[str], source: str = ""):
        self.errors = list(errors)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(self.errors))


@dataclass(frozen=True)
class DeviceConfig:
    id: str
    type: str            # camera | codec | dsp
    url: str
    required: bool = True
    label: str | dict = ""   # a name for people: a string or {kk, ru, en}; default by kind and position
    model: str = ""      # codec: cisco | poly; dsp: tesira | shure; camera: free text
    options: dict = field(default_factory=dict)  # the type-specific keys, validated


@dataclass(frozen=True)
class MqttConfig:
    url: str = "mqtt://127.0.0.1:1883"
    username: str = ""
    password: str = field(default="", repr=False)   # never printed
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    keepalive: int = 10
    heartbeat_s: int = 30    # readiness republished this often; valid_until = now + 1.25 x this
    topic_prefix: str = "vks"
    client_id: str = ""
    protocol: str = "auto"   # auto (MQTT 5, falling back to 3.1.1) | 5 | 3.1.1
    urls: tuple[str, ...] = ()   # ``url = [...]``: brokers tried in turn (``url`` is the first)

    @property
    def brokers(self) -> tuple[str, ...]:
        return self.urls or (self.url,)

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        parts = urllib.parse.urlsplit(self.url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def tls(self) -> bool:
        return urllib.parse.urlsplit(self.url).scheme == "mqtts" or bool(self.ca_file)


@dataclass(frozen=True)
class PanelConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    language: str = "ru"     # kk | ru | en: the panel's default language
    # Who may operate the panel: name -> password hash (`vks-room panel-password`).
    # Empty: the panel is open to anyone on the network (logged loudly at start).
    users: dict = field(default_factory=dict, repr=False)
    idle_logout_s: int = 300   # a session left unused this long ends (a shared touch panel: short)
    # HTTPS (web/server.py): on unless the panel listens on loopback only, where plain HTTP is
    # allowed (the demo). A certificate from the court's CA, or one made in data_dir at first run.
    tls: bool | None = None
    cert_file: str = ""
    key_file: str = field(default="", repr=False)
    redirect_port: int = 0     # plain HTTP here answers with a redirect to HTTPS (0: none)

    @property
    def https(self) -> bool:
        return self.tls if self.tls is not None else not is_loopback(self.host)


@dataclass(frozen=True)
class GpioConfig:
    status_red: int | None = None
    status_green: int | None = None
    status_blue: int | None = None
    buzzer: int | None = None
    button: int | None = None
    relays: dict = field(default_factory=dict)   # device id -> pin


@dataclass(frozen=True)
class SelftestConfig:
    check_timeout_s: float = 20.0   # one device's whole check
    poll_interval_s: float = 1.0    # light liveness inquiry while idle
    workers: int = 4                # the pool that runs checks in parallel


@dataclass(frozen=True)
class RoomConfig:
    court_id: str
    court_name: dict                 # {"kk": ..., "ru": ..., "en": ...}
    courtroom: str
    timezone: str = "Asia/Almaty"
    data_dir: str = "/var/lib/vksroom"
    devices: dict = field(default_factory=dict)   # id -> DeviceConfig, in file order
    mqtt: MqttConfig = MqttConfig()
    panel: PanelConfig = PanelConfig()
    gpio: GpioConfig = GpioConfig()
    selftest: SelftestConfig = SelftestConfig()
    lifecycle: dict = field(default_factory=dict)  # overrides of LifecycleSettings, validated here
    source: str = ""
    # A demonstration or bench room, not a courtroom: `config check` lets it be open (no users,
    # placeholder devices) and the room trusts the machine's clock.
    demo: bool = False

    def devices_of(self, type_: str) -> list[DeviceConfig]:
        return [d for d in self.devices.values() if d.type == type_]


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (traffic to it never crosses the room's network)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- validation -------------------------------------------------------------------------

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEFAULT_ROLES = ("judge", "prosecutor", "defence", "defendant", "witness", "wide")


class _Checker:
    def __init__(self):
        self.errors: list[str] = []

    def err(self, path: str, msg: str):
        self.errors.append(f"{path}: {msg}")

    def table(self, data: dict, path: str, allowed: dict[str, Any], required=()) -> dict:
        """Check the keys of a table against ``allowed`` (name -> type or tuple of types)."""
        out = {}
        if not isinstance(data, dict):
            self.err(path, f"must be a table, not {type(data).__name__}")
            return out
        for key in required:
            if key not in data:
                self.err(f"{path}.{key}" if path else key, "is required")
        for key, value in data.items():
            p = f"{path}.{key}" if path else key
            if key not in allowed:
                self.err(p, f"unknown key (allowed: {', '.join(sorted(allowed))})")
                continue
            types = allowed[key]
            types = types if isinstance(types, tuple) else (types,)
            if isinstance(value, bool) and bool not in types:
                self.err(p, f"must be {_names(types)}, not a boolean")
            elif not isinstance(value, types):
                self.err(p, f"must be {_names(types)}, not {type(value).__name__}")
            else:
                out[key] = value
        return out

    def positive(self, d: dict, key: str, path: str, maximum: float | None = None):
        if key in d and not (0 < d[key] and (maximum is None or d[key] <= maximum)):
            self.err(f"{path}.{key}", f"must be > 0" + (f" and <= {maximum}" if maximum else "") + f", got {d[key]}")

    def private(self, d: dict, key: str, path: str):
        """A private key's file must not be readable by everyone."""
        mode = Path(d[key]).stat().st_mode & 0o777 if d.get(key) and Path(d[key]).is_file() else 0
        if mode & 0o004:
            self.err(f"{path}.{key}", f"{d[key]} is readable by everyone (mode {mode:04o}): chmod 0640 or 0600")

    def pin(self, value, path: str):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 27:
            self.err(path, f"must be a BCM GPIO number 0-27, got {value!r}")


def _names(types) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false", dict: "a table", list: "a list"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def check_url(url: str, schemes: tuple[str, ...], path: str, c: _Checker) -> None:
    if url.startswith("/") and "serial" in schemes:
        return  # a device path such as /dev/serial/by-id/usb-FTDI...
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in schemes:
        c.err(path, f"unknown scheme {parts.scheme or url!r} (use {', '.join(s + '://' for s in schemes)})")
        return
    if parts.scheme.endswith("serial"):
        if not parts.path.startswith("/"):
            c.err(path, f"{url!r} names no device path (e.g. {parts.scheme}:///dev/ttyUSB0)")
        return
    if not parts.hostname:
        c.err(path, f"{url!r} names no host")
    try:
        port = parts.port
    except ValueError:
        c.err(path, f"{url!r}: the port is not a number from 1 to 65535")
        return
    if port is None and parts.scheme == "tcp":
        c.err(path, f"{url!r} names no port")


_COMMON = {"type": str, "url": str, "required": bool, "label": (str, dict), "model": str}


def _device(dev_id: str, raw: Any, c: _Checker) -> DeviceConfig | None:
    from vksroom.controller.devices.kinds import KINDS   # each kind's keys, schemes, models and rules

    path = f"devices.{dev_id}"
    if not _ID.match(dev_id):
        c.err(path, "device id must be 1-40 lowercase letters, digits, '_' or '-'")
    if not isinstance(raw, dict):
        c.err(path, "must be a table")
        return None
    dtype = raw.get("type")
    if dtype not in KINDS:
        c.err(f"{path}.type", f"unknown device type {dtype!r} (known: {', '.join(KINDS)})"
              if dtype is not None else "is required")
        return None
    kind = KINDS[dtype]
    models = kind.model_names()
    before = len(c.errors)
    d = c.table(raw, path, {**_COMMON, **kind.keys}, required=("url",) + (("model",) if models else ()))
    if "url" in d:
        url_errors = len(c.errors)
        check_url(d["url"], kind.url_schemes(), f"{path}.url", c)
        if len(c.errors) > url_errors:
            del d["url"]     # said once: the kind's own rules judge the rest
    if models and "model" in d and d["model"] not in models:
        c.err(f"{path}.model", f"unknown model {d['model']!r} (known: {', '.join(models)})")
    if isinstance(d.get("label"), dict):
        label = c.table(d["label"], f"{path}.label", {"kk": str, "ru": str, "en": str}, required=("kk", "ru"))
        d["label"] = {**label, "en": label.get("en") or label.get("ru", "")}
    elif d.get("label") == "":
        c.err(f"{path}.label", "must not be empty (leave it out for a name made from the device's kind)")
    c.errors.extend(kind.errors(d, path))
    if len(c.errors) > before:
        return None
    options = {k: v for k, v in d.items() if k not in _COMMON}
    return DeviceConfig(
        id=dev_id, type=dtype, url=d["url"], required=d.get("required", True),
        label=d.get("label", ""), model=d.get("model", ""), options=options,
    )


def _default_labels(devices: dict) -> dict:
    """Devices without a label get one from their kind and, where the room has several of that
    kind, their position ("Камера 2"): a person never reads a device's id."""
    from vksroom.controller.texts import default_label

    kinds = [d.type for d in devices.values()]
    seen: dict[str, int] = {}
    out = {}
    for dev_id, d in devices.items():
        seen[d.type] = seen.get(d.type, 0) + 1
        if not d.label:
            n = seen[d.type] if kinds.count(d.type) > 1 else None
            d = dataclasses.replace(d, label=default_label(d.type, n))
        out[dev_id] = d
    return out


def _panel_tls(p: dict, c: _Checker) -> None:
    host = p.get("host", PanelConfig.host)
    if p.get("tls") is False and not is_loopback(host):
        c.err("panel.tls", f"plain HTTP carries the passwords in clear: allowed only on loopback, not on {host}")
    if bool(p.get("cert_file")) != bool(p.get("key_file")):
        c.err("panel.cert_file", "give both cert_file and key_file (the court CA's certificate and its key)")
    for key in ("cert_file", "key_file"):
        if p.get(key) and not Path(p[key]).is_file():
            c.err(f"panel.{key}", f"no such file: {p[key]}")
    c.private(p, "key_file", "panel")
    if "redirect_port" in p and not 0 <= p["redirect_port"] <= 65535:
        c.err("panel.redirect_port", f"must be 0-65535, got {p['redirect_port']}")
    elif p.get("redirect_port") and p["redirect_port"] == p.get("port", PanelConfig.port):
        c.err("panel.redirect_port", "must differ from panel.port")


def _panel_user(user: str, entry, c: _Checker) -> dict:
    """One ``[panel] users`` entry: ``"hash"`` (a technician, as before roles) or
    ``{ hash = "...", roles = [...], display = "..." }``; read as ``{"hash", "roles"}`` and, when
    given, ``"display"``: the name people read (the header, the record's "who", the act)."""
    from vksroom.controller.commands import STAFF, TECHNICIAN

    path = f"panel.users.{user}"
    if not _ID.match(user):
        c.err(path, "user names are 1-40 lowercase letters, digits, '_' or '-'")
    if isinstance(entry, dict):
        entry = c.table(entry, path, {"hash": str, "roles": list, "display": str}, required=("hash", "roles"))
        hashed, roles, display = entry.get("hash", ""), entry.get("roles", []), entry.get("display")
        if display is not None and (not display.strip() or len(display) > 80 or
                                    any(ch < " " or ch == "\x7f" for ch in display)):
            c.err(f"{path}.display", "a name people read: 1-80 characters on one line")
        for role in roles:
            if role not in STAFF:
                c.err(f"{path}.roles", f"unknown role {role!r} (use {', '.join(STAFF)})")
        if "roles" in entry and not roles:
            c.err(f"{path}.roles", "give the user at least one role")
    else:
        hashed, roles, display = entry, [TECHNICIAN], None
    if not isinstance(hashed, str) or not hashed.startswith(("scrypt:", "pbkdf2:")):
        c.err(path, "must be a password hash made by `vks-room panel-password`, never the password itself")
    return {"hash": hashed, "roles": tuple(roles), **({"display": display.strip()} if display else {})}


def parse(data: dict, source: str = "") -> RoomConfig:
    """Validate a parsed TOML document. Raises :class:`ConfigInvalid` with every problem."""
    c = _Checker()
    top = c.table(data, "", {"room": dict, "devices": dict, "mqtt": dict, "panel": dict, "gpio": dict,
                             "selftest": dict, "lifecycle": dict}, required=("room", "devices"))
    room = c.table(top.get("room", {}), "room",
                   {"court_id": str, "court_name": (str, dict), "courtroom": (str, int), "timezone": str,
                    "data_dir": str, "demo": bool, "secrets_file": str}, required=("court_id", "courtroom"))
    if "court_id" in room and not _ID.match(room["court_id"]):
        c.err("room.court_id", "must be 1-40 lowercase letters, digits, '_' or '-' (it is part of MQTT topics)")
    name = room.get("court_name", room.get("court_id", ""))
    if isinstance(name, str):
        name = {"kk": name, "ru": name, "en": name}
    else:
        name = c.table(name, "room.court_name", {"kk": str, "ru": str, "en": str}, required=("kk", "ru"))
        name.setdefault("en", name.get("ru", ""))
    courtroom = str(room.get("courtroom", ""))
    if "courtroom" in room and not _ID.match(courtroom.lower()):
        c.err("room.courtroom", "must be 1-40 letters, digits, '_' or '-' (it is part of MQTT topics)")
    if "timezone" in room:
        try:
            import zoneinfo

            zoneinfo.ZoneInfo(room["timezone"])
        except Exception:
            c.err("room.timezone", f"unknown time zone {room['timezone']!r} (e.g. Asia/Almaty)")

    devices = {}
    raw_devices = top.get("devices", {})
    if isinstance(raw_devices, dict):
        if "devices" in top and not raw_devices:
            c.err("devices", "no devices configured")
        for dev_id, raw in raw_devices.items():
            dev = _device(dev_id, raw, c)
            if dev:
                devices[dev_id] = dev

    m = c.table(top.get("mqtt", {}), "mqtt",
                {"url": (str, list), "username": str, "password": str, "ca_file": str, "cert_file": str, "key_file": str,
                 "keepalive": int, "heartbeat_s": int, "topic_prefix": str, "client_id": str, "protocol": str})
    if "protocol" in m and m["protocol"] not in ("auto", "5", "3.1.1"):
        c.err("mqtt.protocol", f"must be auto, 5 or 3.1.1, got {m['protocol']!r}")
    if isinstance(m.get("url"), list):   # several brokers (cluster nodes), tried in turn
        urls = m.pop("url")
        if not urls or not all(isinstance(u, str) for u in urls):
            c.err("mqtt.url", "must be a URL or a non-empty list of URLs")
        else:
            for i, u in enumerate(urls):
                check_url(u, ("mqtt", "mqtts"), f"mqtt.url[{i}]", c)
            if len({u.split(":", 1)[0] for u in urls}) > 1:
                c.err("mqtt.url", "all brokers need the same scheme (all mqtt:// or all mqtts://)")
            m["url"], m["urls"] = urls[0], tuple(urls)
    elif "url" in m:
        check_url(m["url"], ("mqtt", "mqtts"), "mqtt.url", c)
    c.positive(m, "keepalive", "mqtt", 3600)
    c.positive(m, "heartbeat_s", "mqtt", 3600)
    if "topic_prefix" in m and not re.match(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$", m["topic_prefix"]):
        c.err("mqtt.topic_prefix", "must be topic levels of letters, digits, '_' or '-', with no wildcards")
    for key in ("ca_file", "cert_file", "key_file"):
        if m.get(key) and not Path(m[key]).is_file():
            c.err(f"mqtt.{key}", f"no such file: {m[key]}")
    c.private(m, "key_file", "mqtt")

    p = c.table(top.get("panel", {}), "panel", {"host": str, "port": int, "language": str, "users": dict,
                                                "idle_logout_s": int, "tls": bool, "cert_file": str,
                                                "key_file": str, "redirect_port": int})
    _panel_tls(p, c)
    c.positive(p, "idle_logout_s", "panel", 24 * 3600)
    p["users"] = {user: _panel_user(user, entry, c) for user, entry in p.get("users", {}).items()}
    if "port" in p and not 1 <= p["port"] <= 65535:
        c.err("panel.port", f"must be 1-65535, got {p['port']}")
    if "language" in p and p["language"] not in ("kk", "ru", "en"):
        c.err("panel.language", "must be kk, ru or en")

    g = c.table(top.get("gpio", {}), "gpio", {"status_red": int, "status_green": int, "status_blue": int,
                                              "buzzer": int, "button": int, "relays": dict})
    pins: dict[int, list[str]] = {}
    for key, value in g.items():
        if key == "relays":
            for dev_id, pin in value.items():
                c.pin(pin, f"gpio.relays.{dev_id}")
                if dev_id not in devices and dev_id not in raw_devices:
                    c.err(f"gpio.relays.{dev_id}", "names no configured device")
                pins.setdefault(pin, []).append(f"relays.{dev_id}")
        else:
            c.pin(value, f"gpio.{key}")
            pins.setdefault(value, []).append(key)
    for pin, users in pins.items():
        if len(users) > 1:
            c.err("gpio", f"pin {pin} is used twice ({', '.join(users)})")

    s = c.table(top.get("selftest", {}), "selftest",
                {"check_timeout_s": (int, float), "poll_interval_s": (int, float), "workers": int})
    c.positive(s, "check_timeout_s", "selftest", 3600)
    c.positive(s, "poll_interval_s", "selftest", 60)
    c.positive(s, "workers", "selftest", 32)

    number = (int, float)
    life = c.table(top.get("lifecycle", {}), "lifecycle", {
        "warn_before_s": number, "connect_window_s": number, "selftest_margin_s": number, "relay_off_s": number,
        "first_aid_wait_s": number, "first_aid_cooldown_s": number, "call_timeout_s": number,
        "call_poll_s": number, "test_call_hold_s": number, "watch_interval_s": number, "degrade_after_s": dict,
        "quality": dict})
    for key in list(life):
        if key not in ("degrade_after_s", "quality"):
            c.positive(life, key, "lifecycle", 7 * 24 * 3600)
    for kind, seconds in life.get("degrade_after_s", {}).items():
        if kind not in ("video", "audio", "call", "link"):
            c.err(f"lifecycle.degrade_after_s.{kind}", "unknown kind (use video, audio, call, link)")
        elif isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            c.err(f"lifecycle.degrade_after_s.{kind}", f"must be a number of seconds > 0, got {seconds!r}")

    from vksroom.controller.quality import check_config as check_quality
    for where, what in check_quality(life.get("quality", {})):
        c.err(where, what)

    if c.errors:
        raise ConfigInvalid(c.errors, source)
    return RoomConfig(
        court_id=room["court_id"], court_name=name, courtroom=courtroom,
        timezone=room.get("timezone", "Asia/Almaty"), data_dir=room.get("data_dir", "/var/lib/vksroom"),
        devices=_default_labels(devices), mqtt=MqttConfig(**m), panel=PanelConfig(**p),
        gpio=GpioConfig(**g), selftest=SelftestConfig(**s), lifecycle=life, source=source,
        demo=room.get("demo", False),
    )


def load(path: str | Path) -> RoomConfig:
    """Read and validate a TOML room file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigInvalid([f"no such file: {path}"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigInvalid([f"cannot read {path}: {exc}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigInvalid([f"TOML syntax error: {exc}"], str(path)) from None
    problems = _with_secrets(path, data)
    if problems:
        raise ConfigInvalid(problems, str(path))
    return parse(data, str(path))


SECRETS = (("mqtt", "password"), ("panel", "users"))   # what only the room's service may read


def _with_secrets(path: Path, data: dict) -> list[str]:
    """Refuse secrets in a file everyone may read; add those of ``[room] secrets_file`` (mode
    0600, secrets only) to ``data``. Returns the problems found."""
    held = [f"{t}.{k}" for t, k in SECRETS if isinstance(data.get(t), dict) and data[t].get(k)]
    mode = path.stat().st_mode & 0o777
    errors = []
    if held and mode & 0o004:
        errors.append(f"this file holds secrets ({', '.join(held)}) and is readable by everyone (mode {mode:04o}): "
                      f"chmod 0640 (group vksroom), or move them to [room] secrets_file (mode 0600)")
    room = data.get("room")
    name = room.get("secrets_file") if isinstance(room, dict) else None
    if not isinstance(name, str) or not name:
        return errors
    spath = Path(name)
    try:
        smode = spath.stat().st_mode & 0o777
        secret = tomllib.loads(spath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return errors + [f"room.secrets_file: no such file: {spath}"]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return errors + [f"room.secrets_file: cannot read {spath}: {exc}"]
    if smode & 0o077:
        errors.append(f"room.secrets_file: {spath} is readable by others (mode {smode:04o}): chmod 0600, "
                      f"owned by the vksroom user")
    for table, values in secret.items():
        for key, value in (values.items() if isinstance(values, dict) else [("", values)]):
            if (table, key) not in SECRETS:
                errors.append(f"room.secrets_file: {f'{table}.{key}' if key else table} is no secret: keep it in {path}")
            elif isinstance(data.setdefault(table, {}), dict):
                current = data[table].get(key)
                data[table][key] = {**current, **value} if isinstance(current, dict) and isinstance(value, dict) \
                    else value
    return errors
