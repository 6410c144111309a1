"""A RabbitMQ cluster with rabbitmq_mqtt on 127.0.0.1, made by the tests from Debian's
rabbitmq-server (3.10): each node its own directory, ports, node name and the cluster's
cookie; the second node joins the first through classic peer discovery at its first boot.

    with RabbitCluster(2) as cluster:     # raises Unavailable (with the reason) if it cannot
        cluster.nodes[0].url              # mqtt://127.0.0.1:PORT
        cluster.nodes[0].kill()           # SIGKILL its Erlang VM: the node and its connections die
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from vksroom.hil.broker import free_port, wait_accepting

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
CTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


class Unavailable(RuntimeError):
    """The cluster cannot run here; the text says why."""


def missing() -> str | None:
    """Why no RabbitMQ cluster can run here, or None."""
    if not os.access(SERVER, os.X_OK):
        return "rabbitmq-server is not installed (Debian: apt-get install rabbitmq-server; .ci/run does it as root)"
    if not shutil.which("erl") and not Path("/usr/lib/erlang/bin/erl").exists():
        return "Erlang (erl) is not installed"
    return None


class RabbitNode:
    def __init__(self, root: Path, name: str, cookie: str, peers: list[str]):
        self.name = f"{name}@localhost"
        self.dir = root / name
        self.home = self.dir / "home"
        self.home.mkdir(parents=True)
        (self.home / ".erlang.cookie").write_text(cookie)
        os.chmod(self.home / ".erlang.cookie", 0o400)
        self.mqtt_port, self.amqp_port, self.dist_port = free_port(), free_port(), free_port()
        self.peers = peers
        self._proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.mqtt_port}"

    def env(self) -> dict:
        d = self.dir
        return {**os.environ, "HOME": str(self.home), "RABBITMQ_NODENAME": self.name,
                "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
                "RABBITMQ_MNESIA_BASE": str(d / "mnesia"), "RABBITMQ_LOG_BASE": str(d / "log"),
                "RABBITMQ_PLUGINS_EXPAND_DIR": str(d / "plugins-expand"), "ERL_EPMD_ADDRESS": "127.0.0.1"}

    def start(self, timeout: float = 90.0) -> "RabbitNode":
        lines = [f"listeners.tcp.default = 127.0.0.1:{self.amqp_port}",
                 f"mqtt.listeners.tcp.default = 127.0.0.1:{self.mqtt_port}",
                 "loopback_users = none", "mqtt.allow_anonymous = true",
                 "mqtt.default_user = guest", "mqtt.default_pass = guest",
                 "cluster_formation.peer_discovery_backend = classic_config",
                 *(f"cluster_formation.classic_config.nodes.{i} = {peer}" for i, peer in enumerate(self.peers, 1))]
        (self.dir / "rabbitmq.conf").write_text("\n".join(lines) + "\n")
        (self.dir / "enabled_plugins").write_text("[rabbitmq_mqtt].\n")
        log = open(self.dir / "server.out", "ab")
        self._proc = subprocess.Popen([SERVER], env=self.env(), stdin=subprocess.DEVNULL, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        try:
            wait_accepting(self.mqtt_port, timeout, alive=lambda: self._proc.poll() is None)
        except (RuntimeError, TimeoutError) as exc:
            tail = (self.dir / "server.out").read_text(errors="replace")[-800:]
            self.kill()
            raise Unavailable(f"RabbitMQ node {self.name} did not start: {exc}; {tail.strip()}")
        return self

    def ctl(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run([CTL, "-n", self.name, *args], env=self.env(), capture_output=True, text=True,
                              timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr.strip() or done.stdout.strip()}")
        return done.stdout

    def kill(self) -> None:
        """SIGKILL the node's whole process group (its Erlang VM): a node that dies."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)

    def stop(self) -> None:
        """A planned stop of the node."""
        if self._proc is None:
            return
        try:
            os.killpg(self._proc.pid, signal.SIGTERM)
            self._proc.wait(30)
            self._proc = None
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()


class RabbitCluster:
    def __init__(self, size: int = 2):
        why = missing()
        if why:
            raise Unavailable(why)
        self._dir = tempfile.TemporaryDirectory(prefix="vks-rabbit-")
        root = Path(self._dir.name)
        names = [f"vks{os.getpid()}n{i}" for i in range(size)]
        peers = [f"{n}@localhost" for n in names]
        self.nodes = [RabbitNode(root, n, "VKSROOMTESTCOOKIE", peers) for n in names]

    def start(self) -> "RabbitCluster":
        try:
            self.nodes[0].start()
            for node in self.nodes[1:]:
                node.start()
            running = self.nodes[0].ctl("cluster_status", "--formatter", "json")
            for node in self.nodes:
                if node.name not in running:
                    raise Unavailable(f"{node.name} did not join the cluster: {running[:400]}")
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        for node in self.nodes:
            node.kill()
        self._dir.cleanup()

    def __enter__(self) -> "RabbitCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
