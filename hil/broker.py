"""An MQTT broker on 127.0.0.1 for the demo and the tests.

Debian's Mosquitto when it is installed (a config written to a temporary directory, run
as a subprocess), else the embedded amqtt running on its own asyncio loop in its own
thread. Either way the broker listens on a free loopback port and :attr:`url` names it::

    with Broker() as broker:          # or Broker(kind="amqtt")
        print(broker.url)             # mqtt://127.0.0.1:40123
        broker.kill()                 # crash it (SIGKILL for Mosquitto)
        broker.start()                # back on the same port

Mosquitto can also run with persistence (``persistent=True``: sessions, subscriptions and
queued messages are written after every change, so a kill -9 loses nothing it acknowledged),
with a password file and an ACL (``password_file=``, ``acl_file=``, anonymous access off),
and with TLS instead of plain TCP (``tls=TlsFiles(cafile, certfile, keyfile)``: the listener
speaks only TLS, :attr:`url` becomes ``mqtts://127.0.0.1:PORT``, and by default every client
must present a certificate signed by ``cafile``). amqtt speaks MQTT 3.1.1 only, keeps
nothing across a restart and runs without TLS here.

Run alone: ``python -m vksroom.hil.broker --help``.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from vksroom.hil.standalone import wait_for_stop

log = logging.getLogger(__name__)

MOSQUITTO = "/usr/sbin/mosquitto"
KINDS = ("auto", "mosquitto", "amqtt")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mosquitto_path() -> str | None:
    if os.access(MOSQUITTO, os.X_OK):
        return MOSQUITTO
    return shutil.which("mosquitto")


def wait_accepting(port: int, timeout: float, alive=lambda: True) -> None:
    """Block until something accepts TCP connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if not alive():
                raise RuntimeError(f"the broker on port {port} exited before accepting connections")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no broker accepted connections on 127.0.0.1:{port} within {timeout:.0f} s")
            pause.wait(0.02)  # a process we do not control: nothing to wait on but the port


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for a TLS listener: the CA that signed the clients' certificates (and that
    clients use to check the server), the server's certificate and its key."""
    cafile: str
    certfile: str
    keyfile: str
    require_certificate: bool = True   # refuse clients without a certificate signed by cafile


class Broker:
    """One broker on 127.0.0.1. ``start()`` / ``stop()`` / ``kill()``; restartable on the same port."""

    def __init__(self, kind: str = "auto", port: int | None = None, persistent: bool = False,
                 password_file: str | None = None, acl_file: str | None = None, max_packet_size: int | None = None,
                 tls: TlsFiles | None = None):
        if kind not in KINDS:
            raise ValueError(f"unknown broker kind {kind!r} (use {', '.join(KINDS)})")
        if kind == "auto":
            kind = "mosquitto" if mosquitto_path() else "amqtt"
        if kind == "mosquitto" and not mosquitto_path():
            raise RuntimeError("Mosquitto is not installed (Debian: apt-get install mosquitto)")
        if kind == "amqtt" and (persistent or password_file or acl_file or tls):
            raise ValueError("persistence, passwords, ACLs and TLS need Mosquitto; amqtt runs open and in memory")
        self.kind = kind
        self.port = port or free_port()
        self.persistent = persistent
        self.password_file = password_file
        self.acl_file = acl_file
        self.max_packet_size = max_packet_size
        self.tls = tls
        self._dir = tempfile.TemporaryDirectory(prefix=f"vks-{kind}-")
        self._proc: subprocess.Popen | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._amqtt = None

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def running(self) -> bool:
        if self.kind == "mosquitto":
            return self._proc is not None and self._proc.poll() is None
        return self._thread is not None and self._thread.is_alive()

    @property
    def log_text(self) -> str:
        p = Path(self._dir.name) / "mosquitto.log"
        return p.read_text(errors="replace") if p.exists() else ""

    # --- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> "Broker":
        if self.running:
            return self
        if self.kind == "mosquitto":
            self._start_mosquitto(timeout)
        else:
            self._start_amqtt(timeout)
        log.info("%s broker listening on %s", self.kind, self.url)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """A planned stop (Mosquitto saves its persistence file)."""
        if self.kind == "mosquitto":
            self._end_process(signal.SIGTERM, timeout)
        else:
            self._stop_amqtt(timeout)

    def kill(self, timeout: float = 10.0) -> None:
        """A crash: SIGKILL for Mosquitto; amqtt (a thread) is shut down abruptly as it can be."""
        if self.kind == "mosquitto":
            self._end_process(signal.SIGKILL, timeout)
        else:
            self._stop_amqtt(timeout)

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()

    def __enter__(self) -> "Broker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- Mosquitto -------------------------------------------------------------------------

    def config_text(self) -> str:
        d = Path(self._dir.name)
        lines = [
            f"listener {self.port} 127.0.0.1",
            f"log_dest file {d / 'mosquitto.log'}",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            "connection_messages true",
            "max_queued_messages 100000",
            "max_inflight_messages 100",
            "persistent_client_expiration 1h",
        ]
        if os.geteuid() == 0:   # run as root, Mosquitto would drop to 'mosquitto' and lose our temp files
            lines.append(f"user {pwd.getpwuid(os.geteuid()).pw_name}")
        if self.tls:   # settings of the listener above: this port speaks only TLS
            lines += [f"cafile {self.tls.cafile}", f"certfile {self.tls.certfile}", f"keyfile {self.tls.keyfile}",
                      f"require_certificate {'true' if self.tls.require_certificate else 'false'}",
                      "tls_version tlsv1.2"]
        if self.max_packet_size:
            lines.append(f"max_packet_size {self.max_packet_size}")
        if self.persistent:
            # save after every change, so a SIGKILL loses nothing the broker acknowledged
            lines += ["persistence true", f"persistence_location {d}/", "autosave_on_changes true",
                      "autosave_interval 1"]
        else:
            lines.append("persistence false")
        if self.password_file:
            lines += ["allow_anonymous false", f"password_file {self.password_file}"]
        else:
            lines.append("allow_anonymous true")
        if self.acl_file:
            lines.append(f"acl_file {self.acl_file}")
        return "\n".join(lines) + "\n"

    def _start_mosquitto(self, timeout: float) -> None:
        conf = Path(self._dir.name) / "mosquitto.conf"
        conf.write_text(self.config_text())
        self._proc = subprocess.Popen(
            [mosquitto_path(), "-c", str(conf)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            wait_accepting(self.port, timeout, alive=lambda: self._proc.poll() is None)
        except Exception:
            err = self._proc.stderr.read().decode(errors="replace") if self._proc.poll() is not None else ""
            self._end_process(signal.SIGKILL, 5)
            raise RuntimeError(f"Mosquitto did not start on port {self.port}: {err.strip() or self.log_text[-500:]}")

    def _end_process(self, sig: int, timeout: float) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if proc.stderr:
            proc.stderr.close()

    # --- amqtt -----------------------------------------------------------------------------

    def _start_amqtt(self, timeout: float) -> None:
        from amqtt.broker import Broker as AmqttBroker

        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }

        def run():
            asyncio.set_event_loop(loop)
            try:
                self._amqtt = AmqttBroker(config, loop=loop)
                _guard_subscriptions(self._amqtt)
                loop.run_until_complete(self._amqtt.start())
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"amqtt-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or failure:
            self._thread = None
            raise RuntimeError(f"amqtt did not start on port {self.port}: {failure[0] if failure else 'timeout'}")
        wait_accepting(self.port, timeout)

    def _stop_amqtt(self, timeout: float) -> None:
        thread, loop, broker = self._thread, self._loop, self._amqtt
        self._thread = None
        if thread is None or not thread.is_alive():
            return
        try:
            asyncio.run_coroutine_threadsafe(asyncio.wait_for(broker.shutdown(), timeout / 2), loop).result(timeout)
        except Exception as exc:  # still release the port below
            log.warning("amqtt shutdown: %r; closing its sockets", exc)
        try:
            asyncio.run_coroutine_threadsafe(_close_everything(broker), loop).result(timeout)
        except Exception as exc:
            log.warning("amqtt close: %r", exc)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)


class _SnapshotDict(dict):
    """A dict whose iteration walks a copy of its keys (or items) taken when the loop begins."""

    def __iter__(self):
        return iter(list(dict.keys(self)))

    def items(self):
        return list(dict.items(self))


def _guard_subscriptions(broker) -> None:
    """Work around a race inside amqtt (0.12): it loops over ``Broker._subscriptions`` and
    awaits inside the loop (retained messages for a newly connected session, fan-out of a
    broadcast). Another session subscribing meanwhile adds a key, the loop dies with
    "dictionary changed size during iteration" in ``client_connected_cb``, and that session
    gets its CONNACK but is never served again (30 rooms connecting at once hit it under
    load). Iterating over a snapshot is what those loops need; the dict itself stays live."""
    subs = getattr(broker, "_subscriptions", None)
    if type(subs) is dict:
        broker._subscriptions = _SnapshotDict(subs)
    else:
        log.warning("amqtt's Broker._subscriptions is %r, not a dict: connect/subscribe race not guarded", type(subs))


async def _close_everything(broker) -> None:
    """Whatever a half-finished shutdown left: listening sockets, client connections, tasks."""
    for server in getattr(broker, "_servers", {}).values():
        instance = getattr(server, "instance", None)
        if instance is not None and hasattr(instance, "close"):
            instance.close()
    for _session, handler in list(getattr(broker, "_sessions", {}).values()):
        writer = getattr(handler, "writer", None)
        if writer is not None:
            try:
                await asyncio.wait_for(writer.close(), 1)
            except Exception:
                pass
    me = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not me]
    for t in tasks:
        t.cancel()
    await asyncio.wait(tasks, timeout=2) if tasks else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m vksroom.hil.broker",
                                description="Run an MQTT broker on 127.0.0.1 until Ctrl-C.")
    p.add_argument("--kind", choices=KINDS, default="auto", help="mosquitto (when installed) or embedded amqtt")
    p.add_argument("--port", type=int, default=1883, help="TCP port (0: a free one); default 1883")
    p.add_argument("--persistent", action="store_true", help="Mosquitto: keep sessions and messages across restarts")
    p.add_argument("--cafile", help="Mosquitto: TLS listener; the CA (PEM) that signed the client certificates")
    p.add_argument("--certfile", help="with --cafile: the server certificate (PEM)")
    p.add_argument("--keyfile", help="with --cafile: the server key (PEM)")
    p.add_argument("--no-client-cert", action="store_true", help="with --cafile: do not demand client certificates")
    args = p.parse_args(argv)
    tls = None
    if args.cafile or args.certfile or args.keyfile:
        if not (args.cafile and args.certfile and args.keyfile):
            p.error("TLS needs all of --cafile, --certfile and --keyfile")
        tls = TlsFiles(args.cafile, args.certfile, args.keyfile, require_certificate=not args.no_client_cert)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    broker = Broker(args.kind, port=args.port or None, persistent=args.persistent, tls=tls)
    with broker:
        print(f"{broker.kind} broker on {broker.url} (Ctrl-C stops)", flush=True)
        wait_for_stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
