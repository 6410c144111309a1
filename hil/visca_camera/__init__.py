"""A VISCA PTZ camera simulator: Sony VISCA over IP, raw VISCA over TCP/UDP, serial on a pty.

::

    sim = CameraSimulator(transport="visca-ip", port=0, boot_s=0.5, loss=0.2).start()
    sim.url            # "visca-ip://127.0.0.1:40123"
    sim.pan, sim.counts["pt_relative"]
    sim.stop(); sim.start()     # power cycle on the same port (presets kept with state_file)
    sim.close()

Power-up: ``start()`` is mains on; the camera answers error 41 for ``boot_s`` (0.3 s here,
short for tests and the demo; a real camera takes about :data:`REAL_BOOT_S`, the
command line's default). ``counts`` says how often each command was *executed*,
``refused`` how often one was received and not executed (error 41 while booting...).

Faults: ``loss`` (fraction of packets dropped each way), ``delay`` (seconds added to each
reply), ``drop_ack`` / ``drop_completion`` (fractions), ``garbage`` (fraction of replies
preceded by junk bytes), ``seed``; quirks from :data:`QUIRKS` as keyword switches
(``no_ack=True``...). ``wire_timing=True`` makes serial replies take their time at
``baud`` (10 bits a byte). Runnable alone: ``python -m vksroom.hil.visca_camera --help``.

Imports nothing from the rest of the project: a simulator is a device.
"""
from __future__ import annotations

import heapq
import itertools
import os
import random
import select
import socket
import struct
import threading
import time
import types
import tty

from vksroom.hil.visca_camera.model import FF, QUIRKS, REAL_BOOT_S, CameraModel, Options

__all__ = ["CameraSimulator", "QUIRKS", "REAL_BOOT_S"]

TRANSPORTS = ("visca-ip", "visca-udp", "visca-tcp", "visca-serial")
IP_HEADER = struct.Struct(">HHI")
T_COMMAND, T_INQUIRY, T_REPLY, T_SETTING, T_CONTROL, T_CONTROL_REPLY = 0x0100, 0x0110, 0x0111, 0x0120, 0x0200, 0x0201
_REPLY_HEADS = {n: struct.pack(">HH", T_REPLY, n) for n in range(1, 17)}   # type, length


def split_packets(buf: bytearray) -> list[bytes]:
    """Cut whole packets (.. FF) off the front of ``buf``; junk before a header byte is dropped."""
    out = []
    while True:
        while buf and not 0x80 <= buf[0] < FF:
            del buf[0]
        end = buf.find(FF)
        if end < 0:
            if len(buf) > 64:
                buf.clear()
            return out
        out.append(bytes(buf[:end + 1]))
        del buf[:end + 1]


class _Scheduler:
    """One thread sending delayed replies and the Completions of moves when they are due."""

    def __init__(self, models):
        self.models = models
        self._heap: list = []
        self._n = itertools.count()
        self._cond = threading.Condition()
        self._stop = False
        self._kicked = False
        self._thread = threading.Thread(target=self._run, name="visca-sim-scheduler", daemon=True)
        self._thread.start()

    def at(self, due: float, fn) -> None:
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._n), fn))
            self._cond.notify()

    def kick(self) -> None:
        with self._cond:
            self._kicked = True
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        while True:
            now = time.monotonic()
            due = []
            with self._cond:
                if self._stop:
                    return
                self._kicked = False   # set again by any job added from here on
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap)[2])
            for fn in due:
                fn()
            wake = [m.complete_due(now) for m in self.models]
            with self._cond:
                wake = [w for w in wake if w is not None] + ([self._heap[0][0]] if self._heap else [])
                timeout = max(0.0, min(wake) - time.monotonic()) if wake else 0.5
                if not self._stop and not due and not self._kicked:
                    self._cond.wait(min(timeout, 0.5))


class CameraSimulator:
    def __init__(self, transport: str = "visca-ip", host: str = "127.0.0.1", port: int = 0,
                 state_file: str | None = None, chain: int = 1, boot_s: float = 0.3, ack_delay: float = 0.0,
                 loss: float = 0.0, delay: float = 0.0, drop_ack: float = 0.0, drop_completion: float = 0.0,
                 garbage: float = 0.0, seed: int | None = None, presets: int = 16,
                 pan_speed: float = 1400.0, tilt_speed: float = 1200.0, zoom_speed: float = 10000.0,
                 baud: int = 9600, wire_timing: bool = False, **quirks):
        if transport not in TRANSPORTS:
            raise ValueError(f"unknown transport {transport!r} (use {', '.join(TRANSPORTS)})")
        unknown = [q for q in quirks if q not in QUIRKS]
        if unknown:
            raise ValueError(f"unknown quirk(s) {', '.join(unknown)} (known: {', '.join(QUIRKS)})")
        if not 1 <= chain <= 7 or (chain > 1 and transport != "visca-serial"):
            raise ValueError("chain must be 1..7, and more than 1 only on visca-serial")
        for name, value in (("loss", loss), ("drop_ack", drop_ack), ("drop_completion", drop_completion),
                            ("garbage", garbage)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a fraction 0..1, got {value}")
        self.transport, self.host, self.port, self.baud = transport, host, int(port), baud
        self.wire_timing, self._wire_free = bool(wire_timing), 0.0
        # read-only: the receive loop decides once whether any fault is on
        self.faults = types.MappingProxyType({"loss": loss, "delay": delay, "drop_ack": drop_ack,
                                              "drop_completion": drop_completion, "garbage": garbage})
        self.quirks = {q for q, on in quirks.items() if on}
        self.cameras = []
        for i in range(chain):
            sf = state_file if i == 0 or not state_file else f"{state_file}.{i + 1}"
            self.cameras.append(CameraModel(Options(
                address=i + 1, boot_s=boot_s, ack_delay=ack_delay, pan_speed=pan_speed, tilt_speed=tilt_speed,
                zoom_speed=zoom_speed, presets=presets, state_file=sf, quirks=self.quirks)))
        self.rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.wire = {"in": 0, "out": 0, "lost_in": 0, "lost_out": 0, "dropped_ack": 0, "dropped_completion": 0,
                     "garbage_sent": 0, "resends_seen": 0}
        self._sched: _Scheduler | None = None
        self._running = False
        self._threads: list[threading.Thread] = []
        self._sock: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._peers: dict = {}
        self._pty: tuple[int, int] | None = None
        self._stop_evt = threading.Event()
        self._serial_buf = bytearray()
        self.started = threading.Event()

    # --- state for tests ------------------------------------------------------------------

    @property
    def camera(self) -> CameraModel:
        return self.cameras[0]

    @property
    def pan(self) -> int:
        return self.camera.positions()[0]

    @property
    def tilt(self) -> int:
        return self.camera.positions()[1]

    @property
    def zoom(self) -> int:
        return self.camera.positions()[2]

    @property
    def power(self) -> str:
        return "booting" if self.camera.booting() else self.camera.power

    @property
    def frozen(self) -> bool:
        """CAM_Freeze is on: the camera's video (``VideoStreamServer(frozen_fn=...)``) holds one picture."""
        return self.camera.frozen

    @property
    def counts(self):
        """Commands *executed* by name (``preset_recall``...), and outcomes (``rejected``...)."""
        return self.camera.counts

    @property
    def refused(self):
        """Commands received and not executed, by name (error 41 while booting or in standby,
        03 both sockets busy, 02 bad parameters)."""
        return self.camera.refused

    def wait_still(self, timeout: float = 5.0) -> bool:
        """Wait until camera 1 has ended every move it was sent (see :meth:`CameraModel.wait_still`)."""
        return self.camera.wait_still(timeout)

    @property
    def running(self) -> bool:
        return self._running

    @property
    def url(self) -> str:
        if self.transport == "visca-serial":
            if self._pty is None:
                raise RuntimeError("start the simulator first: the pty is made on start")
            return f"visca-serial://{os.ttyname(self._pty[1])}?baud={self.baud}&address=1"
        return f"{self.transport}://{self.host}:{self.port}"

    def url_for(self, address: int) -> str:
        return self.url.replace("address=1", f"address={address}")

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> "CameraSimulator":
        """Power on (again): listen on the same port as before, boot for ``boot_s``."""
        if self._running:
            return self
        self._stop_evt.clear()
        self._wake = os.pipe()
        if self._sched is None:
            self._sched = _Scheduler(self.cameras)
            for cam in self.cameras:
                cam.on_job = self._sched.kick
        for cam in self.cameras:
            cam.power_up()
        if self.transport in ("visca-ip", "visca-udp"):
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((self.host, self.port))
            self.port = self._sock.getsockname()[1]
            self._peers = {}
            self._spawn(self._udp_loop)
        elif self.transport == "visca-tcp":
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((self.host, self.port))
            self._sock.listen(8)
            self.port = self._sock.getsockname()[1]
            self._spawn(self._tcp_accept)
        else:
            if self._pty is None:
                master, slave = os.openpty()
                tty.setraw(slave)
                tty.setraw(master)
                self._pty = (master, slave)
                self._serial_thread = threading.Thread(target=self._serial_loop, daemon=True, name="visca-sim-serial")
                self._serial_thread.start()
            for cam in self.cameras:
                cam.address = None   # a camera forgets its address at power-up
                self._serial_write(bytes([0x90 + 0x10 * (self.cameras.index(cam)), 0x38, FF]))
        self._running = True
        self.started.set()
        return self

    def stop(self) -> None:
        """Power off / unplug: stop answering, close sockets and connections (serial: the pty
        stays so the same path comes back on start)."""
        if not self._running:
            return
        self._running = False
        self.started.clear()
        self._stop_evt.set()
        os.write(self._wake[1], b"x")
        if self._sock is not None and self._sock.type == socket.SOCK_DGRAM:
            try:   # wake the blocking receive
                self._sock.sendto(b"", self._sock.getsockname())
            except OSError:
                pass
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        for conn in list(self._conns):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        self._conns.clear()
        for th in self._threads:
            th.join(timeout=2)
        self._threads = []
        for fd in self._wake:
            os.close(fd)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and release everything (the pty too)."""
        self.stop()
        if self._sched is not None:
            self._sched.stop()
            self._sched = None
        if self._pty is not None:
            master, slave = self._pty
            self._pty = None
            for fd in (slave, master):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self._serial_thread.join(timeout=2)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def _spawn(self, fn) -> None:
        th = threading.Thread(target=fn, daemon=True, name=f"visca-sim-{fn.__name__}")
        self._threads.append(th)
        th.start()

    # --- faults ---------------------------------------------------------------------------

    def _chance(self, p: float) -> bool:
        if p <= 0:
            return False
        with self._rng_lock:
            return self.rng.random() < p

    def _out(self, send):
        """Wrap a raw send(bytes) into the model's out(reply, at), applying faults."""
        if not any(self.faults.values()):
            def plain(data: bytes, at: float) -> None:
                if at > time.monotonic():
                    self._sched.at(at, lambda: self._running and send(data, False))
                elif self._running:
                    send(data, False)
                    self.wire["out"] += 1
            return plain

        def out(data: bytes, at: float) -> None:
            is_ack = len(data) == 3 and data[1] & 0xF0 == 0x40
            is_done = len(data) == 3 and data[1] & 0xF0 == 0x50
            if is_ack and self._chance(self.faults["drop_ack"]):
                self.wire["dropped_ack"] += 1
                return
            if is_done and self._chance(self.faults["drop_completion"]):
                self.wire["dropped_completion"] += 1
                return
            if self._chance(self.faults["loss"]):
                self.wire["lost_out"] += 1
                return
            junk = None
            if self._chance(self.faults["garbage"]):
                with self._rng_lock:
                    junk = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 20)))
                self.wire["garbage_sent"] += 1
            at += self.faults["delay"]

            def go():
                if not self._running:
                    return
                if junk is not None:
                    send(junk, True)
                send(data, False)
                self.wire["out"] += 1
            if at <= time.monotonic():
                go()
            else:
                self._sched.at(at, go)
        return out

    def _lost_in(self) -> bool:
        self.wire["in"] += 1
        if self._chance(self.faults["loss"]):
            self.wire["lost_in"] += 1
            return True
        return False

    def _dispatch(self, pkt: bytes, out) -> None:
        """One packet from the network (one camera, any receiver address)."""
        cam = self.camera
        if pkt == b"\x88\x01\x00\x01\xff":      # broadcast IF_Clear: echoed
            cam.handle(bytes([0x81, 0x01, 0x00, 0x01, FF]), lambda d, at: None)
            out(pkt, time.monotonic())
            return
        cam.handle(pkt, out)

    # --- VISCA over IP (Sony) and raw UDP -------------------------------------------------

    def _readable(self, sock) -> bool:
        """Block until ``sock`` has data (True) or the simulator stops (False)."""
        try:
            ready, _, _ = select.select([sock, self._wake[0]], [], [])
        except (OSError, ValueError):
            return False
        return not self._stop_evt.is_set() and sock in ready

    def _udp_loop(self) -> None:
        sock = self._sock
        if self.transport == "visca-ip":
            self._ip_loop(sock)
            return
        while True:
            try:
                data, addr = sock.recvfrom(65535)
            except (OSError, ValueError):
                return
            if self._stop_evt.is_set():
                return
            if self._lost_in():
                continue
            send = self._sender(lambda b, s=sock, a=addr: s.sendto(b, a))
            for pkt in split_packets(bytearray(data)):
                self._dispatch(pkt, self._out(send))

    def _ip_loop(self, sock) -> None:
        """VISCA over IP. The usual datagram, an inquiry when no fault is switched on, is
        answered right here: a camera answers inquiries from its current state at once,
        and a round trip through timers and closures would measure the simulator, not
        the driver. Everything else goes through :meth:`_ip_datagram`."""
        recvfrom, sendto, wire, me = sock.recvfrom, sock.sendto, self.wire, (self.host, self.port)
        answer = self.camera.answer_at_once
        quick = not any(self.faults.values())
        fixed_seq = b"\x00\x00\x00\x01" if "seq_reply_one" in self.quirks else None
        while True:
            try:
                data, addr = recvfrom(65535)
            except (OSError, ValueError):
                return
            if not data and self._stop_evt.is_set():
                return   # stop() wakes this receive with an empty datagram
            # an inquiry (type 0110) whose header length is right: answered at once
            if quick and data[:3] == b"\x01\x10\x00" and data[3] == len(data) - 8 and addr != me:
                reply = answer(data[8:])
                if reply is not None:
                    wire["in"] += 1
                    try:
                        sendto(_REPLY_HEADS[len(reply)] + (fixed_seq or data[4:8]) + reply, addr)
                    except OSError:
                        return
                    wire["out"] += 1
                    continue
            if self._stop_evt.is_set():
                return
            if not self._lost_in():
                self._ip_datagram(sock, data, addr)

    @staticmethod
    def _sender(raw):
        def send(data: bytes, junk: bool) -> None:
            try:
                raw(data)
            except OSError:
                pass
        return send

    def _ip_datagram(self, sock, data: bytes, addr) -> None:
        if len(data) < 9:
            return   # a camera ignores what it cannot read
        ptype, length, seq = IP_HEADER.unpack_from(data)
        payload = data[8:]
        reply_seq = 1 if "seq_reply_one" in self.quirks else seq

        def send_ip(ptype_out: int, body: bytes, junk: bool = False) -> None:
            try:
                if junk:
                    sock.sendto(body, addr)
                else:
                    sock.sendto(IP_HEADER.pack(ptype_out, len(body), reply_seq) + body, addr)
            except OSError:
                pass

        if ptype in (T_REPLY, T_CONTROL_REPLY) or addr == (self.host, self.port):
            return   # a camera does not answer answers (nor itself)
        def control(body: bytes) -> None:   # faults apply to control replies too
            self._out(lambda b, junk: send_ip(T_CONTROL_REPLY, b, junk))(body, time.monotonic())

        if length != len(payload) or not 1 <= length <= 16:
            control(b"\x0f\x01")   # Sony: abnormal message (length)
            return
        if ptype == T_CONTROL:
            if payload == b"\x01":
                self._peers.pop(addr, None)
                self.camera.counts["reset"] += 1
                control(b"\x01")
            else:
                control(b"\x0f\x02")
            return
        is_inq = len(payload) > 1 and payload[1] == 0x09
        if ptype not in (T_COMMAND, T_INQUIRY) or ("strict_types" in self.quirks and (ptype == T_INQUIRY) != is_inq):
            control(b"\x0f\x02")
            return
        out = self._out(lambda b, junk: send_ip(T_REPLY, b, junk))
        if not is_inq and "seq_ignore" not in self.quirks:
            last = self._peers.get(addr)
            if last is not None and last[0] == seq:
                # the same sequence number again, a resend (Sony): "sequence wrong" when it
                # ran (its ACK or Completion was lost), the same error again when it was refused
                self.wire["resends_seen"] += 1
                if last[1] is None:
                    control(b"\x0f\x01")
                else:
                    out(last[1], time.monotonic())
                return
            last = self._peers[addr] = [seq, None]
            out = self._remember_refusal(last, out)
        for pkt in split_packets(bytearray(payload))[:1]:
            self._dispatch(pkt, out)

    @staticmethod
    def _remember_refusal(last: list, out):
        """``out`` that notes in ``last[1]`` the error packet, when the first reply to a
        message is one (the message did not run)."""
        first = [True]

        def noting(data: bytes, at: float) -> None:
            if first[0]:
                first[0] = False
                if len(data) == 4 and data[1] & 0xF0 == 0x60:
                    last[1] = data
            out(data, at)
        return noting

    # --- raw TCP --------------------------------------------------------------------------

    def _tcp_accept(self) -> None:
        lsock = self._sock
        while self._readable(lsock):
            try:
                conn, _ = lsock.accept()
            except (OSError, ValueError):
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conns.append(conn)
            self._spawn(lambda c=conn: self._tcp_conn(c))

    def _tcp_conn(self, conn: socket.socket) -> None:
        buf = bytearray()
        lock = threading.Lock()

        def raw(b: bytes) -> None:
            with lock:
                conn.sendall(b)
        send = self._sender(raw)
        while self._readable(conn):
            try:
                data = conn.recv(4096)
            except (OSError, ValueError):
                break
            if not data:
                break
            buf += data
            for pkt in split_packets(buf):
                if not self._lost_in():
                    self._dispatch(pkt, self._out(send))
        try:
            conn.close()
        except OSError:
            pass
        if conn in self._conns:
            self._conns.remove(conn)

    # --- serial daisy chain on a pty ------------------------------------------------------

    def _serial_write(self, data: bytes) -> None:
        if self._pty is not None:
            try:
                os.write(self._pty[0], data)
            except OSError:
                pass

    def _serial_loop(self) -> None:
        while self._pty is not None:
            master = self._pty[0]
            try:
                ready, _, _ = select.select([master], [], [], 0.2)
                if not ready:
                    continue
                data = os.read(master, 4096)
            except (OSError, ValueError, TypeError):
                # EIO while no one holds the other end open; or closed by close()
                if self._pty is None:
                    return
                time.sleep(0.05)  # nobody has the port open: nothing to read yet
                continue
            if not self._running:
                continue          # a powered-off camera hears nothing
            self._serial_buf += data
            send = self._sender(self._serial_write)
            for pkt in split_packets(self._serial_buf):
                if not self._lost_in():
                    self._serial_packet(pkt, self._on_wire(self._out(lambda b, junk: send(b, junk))))

    def _on_wire(self, out):
        """Serial replies take their time on the wire: 10 bits a byte at ``baud``, one at a time."""
        if not self.wire_timing:
            return out

        def timed(data: bytes, at: float) -> None:
            start = max(at, self._wire_free)
            self._wire_free = start + len(data) * 10 / self.baud
            out(data, self._wire_free)
        return timed

    def _serial_packet(self, pkt: bytes, out) -> None:
        now = time.monotonic()
        if pkt == b"\x88\x30\x01\xff":            # AddressSet: each camera takes the next number
            for i, cam in enumerate(self.cameras):
                cam.address = i + 1
                cam.counts["address_set"] += 1
            out(bytes([0x88, 0x30, len(self.cameras) + 1, FF]), now)
            return
        if pkt == b"\x88\x01\x00\x01\xff":        # IF_Clear broadcast: every camera, then echoed
            for cam in self.cameras:
                if cam.address is not None:
                    cam.handle(bytes([0x80 | cam.address, 0x01, 0x00, 0x01, FF]), lambda d, at: None)
            out(pkt, now)
            return
        target = pkt[0] & 0x0F
        for cam in self.cameras:
            if cam.address is not None and cam.address == target:
                cam.handle(pkt, out)
                return
        out(pkt, now)   # nobody took it: it travels round the ring back to the controller
