"""The entry module: the one place that wires drivers, controller, panel and MQTT link.

``Stack`` is a running room (controller + MQTT link + panel server). The CLI commands
``run``, ``selftest``, ``demo`` and ``config check`` are defined here; the demo adds the
bench (simulators and a broker from ``hil/``) around an ordinary ``Stack``.
"""
from __future__ import annotations

import argparse
import errno
import json
import logging
import socket
import threading

from vksroom.controller.config import RoomConfig, load
from vksroom.drivers.errors import UsageError

log = logging.getLogger("vksroom")


class Stack:
    """A room running: controller, MQTT link, panel and control socket, started and stopped
    together. It holds the room's lock (one controller per data directory) from its
    construction to :meth:`stop`; constructing it raises RoomBusy, before any device or
    file of the room is opened, when another process holds it."""

    def __init__(self, cfg: RoomConfig, adapters=None, mqtt: bool = True, panel: bool = True,
                 control: bool = True, lock=None, clock_probe=None, check_storage: bool = False):
        from vksroom.controller.instance import RoomLock
        from vksroom.controller.assemble import build_room

        speak(cfg)
        self.cfg = cfg
        self.lock = lock if lock is not None else RoomLock(cfg.data_dir).acquire("run")
        try:
            self.controller = build_room(cfg, adapters, clock_probe=clock_probe, check_storage=check_storage)
        except BaseException:
            self.lock.release()
            raise
        self.link = None
        self.server = None
        self.control = None
        self._mqtt, self._panel, self._control = mqtt, panel, control
        self._server_thread: threading.Thread | None = None

    @property
    def panel_url(self) -> str:
        return f"{'https' if self.cfg.panel.https else 'http'}://{self.cfg.panel.host}:{self.cfg.panel.port}/"

    def start(self) -> "Stack":
        from vksroom.controller.instance import ControlServer

        try:
            if self._panel:
                self.server = make_server(self.cfg, self.controller)  # first: a busy port fails before anything runs
            if self._control:
                self.control = ControlServer(self.cfg.data_dir, control_handlers(self.cfg, self.controller)).bind()
        except BaseException:
            if self.server is not None:
                self.server.close()
            self.lock.release()
            raise
        self.controller.start()
        if self._mqtt:
            from vksroom.mqtt.link import MqttLink

            self.link = MqttLink(self.controller, self.cfg, protocol=self.cfg.mqtt.protocol)
            self.link.start()
        if self.server is not None:
            self._server_thread = threading.Thread(target=self.server.run, name="panel", daemon=True)
            self._server_thread.start()
        if self.control is not None:
            self.control.start()   # requests that came while starting were queued; answered from now
        return self

    def stop(self) -> None:
        if self.control is not None:
            self.control.stop()
        if self.server is not None:
            self.server.close()
        if self.link is not None:
            self.link.stop()
        self.controller.stop()
        if self._server_thread is not None:
            self._server_thread.join(2)
        self.lock.release()   # last: nothing of this room is open any more


def control_handlers(cfg: RoomConfig, controller) -> dict:
    """What the control socket answers, through the controller's public methods only."""
    from vksroom.controller.instance import BadRequest

    def selftest(request: dict) -> dict:
        timeout = request.get("timeout")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or not 0 < timeout <= 3600):
            raise BadRequest("timeout must be a number of seconds, more than 0 and at most 3600")
        # as the panel's button starts one (joining a self-test already under way), then waits
        return selftest_document(cfg, controller.selftest("cli", timeout=timeout))

    return {"readiness": lambda request: controller.readiness().to_dict(), "selftest": selftest}


def speak(cfg: RoomConfig) -> None:
    """The room's language (what every ``reason`` says, on MQTT too): the panel's, from the config."""
    from vksroom.controller import texts

    texts.set_default_language(cfg.panel.language)


def sd_notify(message: str) -> bool:
    """Tell systemd (Type=notify) something; a no-op when not run by systemd."""
    import os

    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        try:
            s.sendto(message.encode(), address)
            return True
        except OSError:
            return False


def watchdog(controller, stop: threading.Event) -> None:
    """Pet systemd's watchdog while the room thread answers; a hung room is then restarted."""
    import os

    usec = int(os.environ.get("WATCHDOG_USEC", "0") or 0)
    if not usec:
        return
    period = usec / 1e6 / 3
    while not stop.wait(period):
        if controller.alive(timeout=period):
            sd_notify("WATCHDOG=1")
        else:
            log.error("room thread did not answer within %.0f s: not petting the watchdog", period)


def make_server(cfg: RoomConfig, controller):
    """The panel's server (web/server.py: HTTPS, or HTTP on loopback), bound now; raises
    UsageError when a port is taken."""
    from vksroom.web import create_app
    from vksroom.web.server import PanelServer

    try:
        return PanelServer(create_app(controller), cfg.panel, cfg.data_dir, threads=4)
    except OSError as exc:
        # cheroot gives the bind error as text in its own OSError ("... [Errno 98] Address already in use")
        if exc.errno == errno.EADDRINUSE or f"[Errno {errno.EADDRINUSE}]" in str(exc):
            raise UsageError(f"panel port {cfg.panel.port} (or redirect_port) on {cfg.panel.host} is already in "
                             f"use (another vks-room running? set [panel] port)") from None
        raise UsageError(f"cannot serve the panel on {cfg.panel.host}:{cfg.panel.port}: {exc}") from None


def wait_for_signal() -> None:
    """Block until Ctrl-C or SIGTERM (systemd's stop), asleep until one comes: the signal,
    whichever thread the kernel hands it to, wakes the main thread through a wake-up pipe (a
    timed wait would wake the Pi twice a second for nothing). The simulators stop the same way."""
    from vksroom.hil.standalone import wait_for_stop

    wait_for_stop()


def readiness_topic(cfg: RoomConfig) -> str:
    from vksroom.mqtt.contract import Topics

    return Topics(cfg.mqtt.topic_prefix, cfg.court_id, cfg.courtroom).readiness


# -- commands -------------------------------------------------------------------------


def cmd_config_check(args) -> int:
    """Valid, and fit for a courtroom (controller/production.py) unless marked a demo."""
    import sys
    from pathlib import Path

    from vksroom.controller import production

    cfg = load(args.file)
    found = production.problems(cfg, Path(args.udev_rules))
    if found:
        print(f"vks-room: {args.file} is not ready for a courtroom:", file=sys.stderr)
        for line in found:
            print(f"  {line}", file=sys.stderr)
        return 2
    demo = "; a demo room, not held to a courtroom's rules" if cfg.demo else ""
    print(f"{args.file}: OK ({len(cfg.devices)} devices, court {cfg.court_id}, courtroom {cfg.courtroom}{demo})")
    return 0


def take_room(data_dir, command: str):
    """The room's lock for ``command``; UsageError naming the process that holds it."""
    from vksroom.controller import instance

    try:
        return instance.RoomLock(data_dir).acquire(command)
    except instance.RoomBusy as busy:
        if busy.command == "selftest":
            raise UsageError(testing_now(busy)) from None
        raise UsageError(f"{busy}; one controller per room, and a second one would fight it for the same "
                         f"devices: stop that one first (sudo systemctl stop vksroom), or ask it, "
                         f"e.g. vks-room selftest --config FILE") from None
    except instance.InstanceError as exc:
        raise UsageError(str(exc)) from None


def testing_now(busy) -> str:
    return f"{busy}, which is testing the devices now; try again when it has finished"


def cmd_run(args) -> int:
    from vksroom.controller.timesync import system_synchronised

    cfg = load(args.config)
    # a courtroom guards its clock (a Pi has no real-time clock) and its data's durability; a demo
    # trusts the machine
    stack = Stack(cfg, lock=take_room(cfg.data_dir, "run"), clock_probe=None if cfg.demo else system_synchronised,
                  check_storage=not cfg.demo).start()
    print(f"vks-room: panel {stack.panel_url}  readiness on {cfg.mqtt.url} topic {readiness_topic(cfg)}", flush=True)
    if stack.server is not None and stack.server.https:
        print(f"vks-room: panel certificate SHA-256 {stack.server.fingerprint}", flush=True)
    stop = threading.Event()
    threading.Thread(target=watchdog, args=(stack.controller, stop), name="watchdog", daemon=True).start()
    sd_notify("READY=1")
    try:
        wait_for_signal()
    finally:
        sd_notify("STOPPING=1")
        stop.set()
        stack.stop()
    return 0


def selftest_document(cfg: RoomConfig, result: dict) -> dict:
    r = result["readiness"]
    return {
        "room": {"court_id": cfg.court_id, "court_name": cfg.court_name, "courtroom": cfg.courtroom},
        "run_id": result["run_id"],
        "state": result["state"],
        "ready": result["state"] in ("ready", "degraded"),
        "reasons": result["reasons"],
        "devices": {
            dev_id: {
                "kind": d["kind"], "required": d["required"], "ok": d["health"] == "ok", "reason": d["reason"],
                "checks": {c["check"]: {"ok": c["ok"], "reason": c["reason"], "value": c["value"]}
                           for c in d["checks"]},
            }
            for dev_id, d in r["devices"].items()
        },
    }


class SelftestFailed(Exception):
    """No self-test result: said in a plain sentence, with the exit status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def cmd_selftest(args) -> int:
    import sys

    cfg = load(args.config)
    speak(cfg)
    try:
        doc = room_selftest(cfg, args.timeout)
    except SelftestFailed as failed:
        print(f"vks-room: {failed}", file=sys.stderr)
        return failed.status
    if args.json:
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        print(f"{cfg.court_id} courtroom {cfg.courtroom}: {doc['state'].upper()}")
        for dev_id, d in doc["devices"].items():
            print(f"  {'ok   ' if d['ok'] else 'FAULT'} {dev_id}" + (f": {d['reason']}" if d["reason"] else ""))
    return 0 if doc["ready"] else 1


def room_selftest(cfg: RoomConfig, timeout: float | None) -> dict:
    """Test every device once. When a controller runs the room, it is asked to test (its
    devices are never opened a second time); otherwise this process opens them itself,
    holding the room's lock meanwhile so that no controller starts under it."""
    from vksroom.controller import instance

    try:
        lock = instance.RoomLock(cfg.data_dir).acquire("selftest")
    except instance.RoomBusy as holder:
        return ask_selftest(cfg, holder, timeout)
    except instance.InstanceError as exc:
        raise UsageError(str(exc)) from None
    with lock:
        return local_selftest(cfg, timeout)


def local_selftest(cfg: RoomConfig, timeout: float | None) -> dict:
    """No controller runs the room: open its devices here, test, close them."""
    from vksroom.controller.room import Controller

    controller = Controller(cfg).start()
    try:
        result = controller.selftest("cli", timeout=timeout)
    except TimeoutError as exc:
        raise SelftestFailed(str(exc), 1) from None
    finally:
        controller.stop()
    return selftest_document(cfg, result)


def ask_selftest(cfg: RoomConfig, holder, timeout: float | None) -> dict:
    """A process holds the room: the running controller tests and answers; nothing is
    opened here. Exit 2 when it cannot be asked, 1 when it says no."""
    from vksroom.controller import instance

    if holder.command == "selftest":   # a stand-alone self-test: nothing to ask
        raise SelftestFailed(testing_now(holder), 2)
    wait = (timeout if timeout is not None else cfg.selftest.check_timeout_s + 10) + 10
    try:
        return instance.ask(cfg.data_dir, "selftest", wait, **({"timeout": timeout} if timeout is not None else {}))
    except instance.Refused as exc:
        said_no = exc.code in (instance.REFUSED, instance.TIMEOUT)
        pid = f" (pid {holder.pid})" if holder.pid else ""
        raise SelftestFailed(f"the running controller{pid} did not test: {exc}", 1 if said_no else 2) from None
    except instance.NoAnswer as exc:
        raise SelftestFailed(f"{holder}, but it does not answer ({exc}); not opening the devices "
                             f"under a running controller", 2) from None


DEMO_FAR_SIDES = (
    {"id": "sizo-1", "kind": "detention", "name": "СИЗО-1 / ТИ-1 (демо)", "number": "sizo-1"},
    {"id": "astana-city", "kind": "court", "name": "Суд г. Астаны / Астана қаласының соты (демо)",
     "number": "astana-city"},
)


def cmd_demo(args) -> int:
    from vksroom.hil.demo import DemoBench

    _require_free_port(args.host, args.port)
    bench = DemoBench(panel_host=args.host, panel_port=args.port, data_dir=args.data_dir)
    # the lock first: a second demo on the same --data-dir must not write into the first one's folder
    with take_room(bench.data_dir, "demo") as lock, bench:
        stack = Stack(bench.config, lock=lock).start()
        try:
            # The simulated cameras answer error 41 while they power up, as real ones do:
            # let them come up before the first self-test (it runs anyway after 20 s).
            stack.controller.wait_for(lambda r: r.state.value == "ready", 20)
            for far_side in DEMO_FAR_SIDES:   # as the centre would send them (farside.set)
                stack.controller.command("farside.set", dict(far_side))
            print("Storing reference pictures of each camera preset (once)...", flush=True)
            capture_missing_references(stack.controller)
            stack.controller.run_selftest("demo")
            print(f"Panel:          {stack.panel_url}", flush=True)
            print(f"MQTT broker:    {bench.config.mqtt.url}", flush=True)
            print(f"Readiness:      {readiness_topic(bench.config)}  (retained)", flush=True)
            print(f"Watch it:       mosquitto_sub -h {bench.config.mqtt.host} -p {bench.config.mqtt.port} "
                  f"-t '{bench.config.mqtt.topic_prefix}/#' -v", flush=True)
            print(f"Panel login:    {', '.join(bench.DEMO_ROLES)} / {bench.DEMO_PASSWORD} "
                  f"(one user per role)", flush=True)
            print("Ctrl-C stops everything.", flush=True)
            wait_for_signal()
        finally:
            stack.stop()
    return 0


def capture_missing_references(controller, timeout: float = 90.0) -> list[str]:
    """For each camera with a picture and no references yet, recall every role and store
    what it shows: what a technician does once, in a good test session. Returns the paths."""
    from vksroom.drivers.video.references import ReferenceStore

    stored = []
    store = ReferenceStore(controller.data_dir)
    for cam in controller.cfg.devices_of("camera"):
        if not cam.options.get("video") or store.list(cam.id):
            continue
        stored += controller.run_on(cam.id, lambda a: [a.capture_reference(role, "demo") for role in a.roles],
                                    timeout=timeout)
    return stored


def cmd_panel_password(args) -> int:
    """Print a password hash for ``[panel] users``; the password itself is never stored."""
    import getpass
    import sys

    from werkzeug.security import generate_password_hash

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise UsageError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        raise UsageError("a panel password needs at least 8 characters")
    print(panel_user_line(args.user, generate_password_hash(password), args.role, args.display))
    return 0


def panel_user_line(user: str, hashed: str, roles: list[str] | None, display: str | None = None) -> str:
    """A ``[panel] users`` line: the bare hash (a technician) or the hash with its roles and, when
    given, the name people read (``display``)."""
    import json

    from vksroom.controller.commands import STAFF, TECHNICIAN

    if not roles and not display:
        return f'{user} = "{hashed}"'
    roles = roles or [TECHNICIAN]
    unknown = [r for r in roles if r not in STAFF]
    if unknown:
        raise UsageError(f"unknown role {unknown[0]!r} (use {', '.join(STAFF)})")
    listed = ", ".join(f'"{r}"' for r in dict.fromkeys(roles))
    shown = f", display = {json.dumps(display.strip(), ensure_ascii=False)}" if display else ""
    return f'{user} = {{ hash = "{hashed}", roles = [{listed}]{shown} }}'



def cmd_panel_cert(args) -> int:
    """Print the panel's certificate fingerprint, making the room's own certificate if it has none."""
    from vksroom.web.server import certificate, fingerprint

    cfg = load(args.config)
    cert, _ = certificate(cfg.panel, cfg.data_dir)
    print(f"{cert}: SHA-256 {fingerprint(cert)}")
    if not cfg.panel.https:
        print(f"note: the panel on {cfg.panel.host} serves plain HTTP ([panel] tls)")
    return 0


def _require_free_port(host: str, port: int) -> None:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            raise UsageError(f"port {port} on {host} is already in use: stop what uses it or pass --port") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the room controller (devices, panel, MQTT) until stopped")
    p.add_argument("--config", required=True, help="room TOML file")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("selftest", help="check every device once; exit 0 ready/degraded, 1 not ready, 2 usage")
    p.add_argument("--config", required=True, help="room TOML file")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--timeout", type=float, default=None, help="seconds to wait for the whole self-test")
    p.set_defaults(func=cmd_selftest)

    p = sub.add_parser("demo", help="a simulated courtroom: simulators, broker, controller and panel")
    p.add_argument("--host", default="127.0.0.1", help="panel address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="panel port (default 8080)")
    p.add_argument("--data-dir", default=None, help="keep the demo's data here (default: a temporary folder)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("panel-password", help="print a [panel] users line with a password hash (reads stdin)")
    p.add_argument("user", help="the user's name, e.g. tech-ivanov")
    p.add_argument("--role", action="append", metavar="ROLE",
                   help="secretary, technician, head_of_chancellery or administrator (repeat for several; "
                        "none: the bare hash, a technician)")
    p.add_argument("--display", metavar="NAME", help="the name people read in the header, records and acts, "
                                                     "e.g. \"Техник А. Серикова\" (default: the user's name)")
    p.set_defaults(func=cmd_panel_password)

    p = sub.add_parser("panel-cert", help="print the panel's HTTPS certificate fingerprint (made at first use)")
    p.add_argument("--config", required=True, help="room TOML file")
    p.set_defaults(func=cmd_panel_cert)

    p = sub.add_parser("config", help="room configuration tools")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    c = csub.add_parser("check", help="validate a room configuration file (exit 0 valid, 2 invalid "
                                        "or not fit for a courtroom)")
    c.add_argument("file", help="path to the room TOML file")
    c.add_argument("--udev-rules", default="/etc/udev/rules.d/99-vksroom-serial.rules",
                   help="the udev rules naming the room's serial adapters (placeholder serials are refused)")
    c.set_defaults(func=cmd_config_check)
