"""The transaction layer: one command in flight per camera, ACK then Completion.

Sony cameras take one command at a time per socket and answer ACK (accepted into socket
y), then Completion (done) or an error. This layer sends one packet, waits for what it
is owed, resends on silence (with the same sequence number over IP, so the camera runs
it once), tells stale replies from ours and turns every outcome into a typed result or
one of the errors of :mod:`vksroom.drivers.errors`.

Error 41 ("not executable now") to a *command* is waited out while the camera powers up:
a camera just powered initialises its pan/tilt for seconds and refuses everything
meanwhile. It is retried (it did not run, so that is safe) for at most ``wait_41_s`` when
the camera is powering up: it refuses the power inquiry with 41 too, or it was powered up
(by us, or the link was (re)opened or RESET) less than ``wait_41_s`` ago and still says
"on". A camera in standby, or one that is up and refuses for another reason, is answered
at once. Inquiries never wait on 41: the liveness poll must fail fast.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from vksroom.drivers.errors import ConfigError, DeviceError, DeviceRejected, DeviceTimeout, ProtocolError
from vksroom.drivers.visca import framing
from vksroom.drivers.visca.links import Link
from vksroom.drivers.visca.messages import Reply, hexs

log = logging.getLogger(__name__)
_NEVER = float("inf")
_UNSENT = object()   # no packet sent yet (see Engine._exchange)
NOT_EXECUTABLE = 0x41
WAIT_41_STEP = 0.1   # seconds between the tries of a command refused while the camera powers up


@dataclass
class Settings:
    """Per-camera timing and quirk settings (all can be set from the room config)."""

    ack_timeout: float = 0.15        # seconds to wait for ACK (or an inquiry answer) per try
    retries: int = 4                 # resends after the first try
    completion_timeout: float = 15.0  # seconds from ACK to Completion (moves take time)
    completion_grace: float = 0.3    # after "0F 01" (it already ran): wait this long for Completion
    completion_probe: float = 1.0    # IP: no Completion yet after this long: resend to learn if it ran
    busy_retries: int = 20           # error 03 (both sockets busy): tries before giving up
    busy_backoff: float = 0.02       # seconds between those tries
    stop_speed: int = 1              # speed bytes sent on a Stop (some cameras refuse 00)
    wait_41_s: float = 15.0          # error 41 to a command while the camera powers up: retried this long
    resend_raw: bool = True          # raw VISCA: resend idempotent commands on silence

    @classmethod
    def from_dict(cls, values: dict) -> "Settings":
        known = cls.__dataclass_fields__
        out = cls()
        for key, value in values.items():
            if key not in known:
                continue
            kind = type(getattr(out, key))
            try:
                setattr(out, key, kind(value) if kind is not bool else bool(value))
            except (TypeError, ValueError):
                raise ConfigError(f"setting {key} must be {kind.__name__}, got {value!r}") from None
        return out


@dataclass(slots=True)
class Outcome:
    """What a command came to: the Completion (or None when the camera said via ``0F 01``
    that it had already run it and its Completion was lost)."""

    reply: Reply | None
    acked_socket: int | None
    attempts: int

    @property
    def completion_known(self) -> bool:
        return self.reply is not None and self.reply.kind == "completion"


class _Busy(Exception):
    def __init__(self, reply: Reply):
        self.reply = reply


class Engine:
    """``power_state``: asks the camera its power ("on"/"standby"; raises as an inquiry
    does); used to tell a camera powering up from one in standby when a command is
    refused with 41."""

    def __init__(self, link: Link, settings: Settings | None = None,
                 power_state: Callable[[], str] | None = None):
        self.link = link
        self.s = settings or Settings()
        self.power_state = power_state
        self._stray: dict[int, float] = {}  # sockets of commands not waited for -> expiry
        self._powered_at: float | None = None   # when the camera was last (perhaps) powered up
        self._pause = threading.Event()          # never set: waits between tries
        self.stats = {"sent": 0, "resent": 0, "probes": 0, "garbage": 0, "stale": 0, "retried_41": 0}

    # --- public -------------------------------------------------------------------------

    def command(self, pkt: bytes, what: str, wait: bool = True, idempotent: bool = True,
                completion_timeout: float | None = None) -> Outcome:
        """``completion_timeout``: this command's own bound from ACK to Completion."""
        return self._patiently(pkt, what, wait, idempotent, inquiry=False, done_within=completion_timeout)

    def powered_up(self) -> None:
        """The camera was, or may just have been, powered up: for ``wait_41_s`` from now a
        command it refuses with 41 is retried even while it answers inquiries."""
        self._powered_at = time.monotonic()

    def inquiry(self, pkt: bytes, what: str) -> bytes:
        link = self.link
        with link.lock:
            link.prepare()
            first = link.ask(pkt, self.s.ack_timeout)
            if first is not None and first[0] == "reply":
                reply = first[1]
                if reply.kind == "completion" and reply.data:    # the usual answer, at once
                    self.stats["sent"] += 1
                    return reply.data
            answer = self._patiently(pkt, what, True, True, inquiry=True, first=first).reply
            if answer is None:
                raise ProtocolError(f"{what}: no data in the answer")
            return answer.data

    def _patiently(self, pkt: bytes, what: str, wait: bool, idempotent: bool, inquiry: bool,
                   first=_UNSENT, done_within: float | None = None) -> Outcome:
        """One exchange, tried again on error 03 (buffer full) and, while the camera powers
        up, on error 41 (not executable yet): neither ran the command, so trying again is
        safe. ``first``: the packet was sent already and this is the first event it brought."""
        give_up_41 = None
        busy = 0
        while True:
            with self.link.lock:
                if first is _UNSENT:
                    self.link.prepare()
                try:
                    return self._exchange(pkt, what, wait, idempotent, inquiry, first, done_within)
                except _Busy as exc:
                    busy += 1
                    if busy > self.s.busy_retries:
                        raise exc.reply.error(what) from None
                    self._idle(self.s.busy_backoff)
                    first = _UNSENT
                    continue
                except DeviceRejected as exc:
                    if exc.code != NOT_EXECUTABLE:
                        raise
                    if inquiry:     # only a camera that is not up yet refuses to say how it is
                        self._powered_at = time.monotonic()
                        raise
                    if give_up_41 is None:    # the first refusal: is the camera powering up?
                        give_up_41 = self._powering_up_until(exc)
                    if time.monotonic() + WAIT_41_STEP > give_up_41:
                        raise DeviceRejected(f"{exc}; still refused after waiting {self.s.wait_41_s:g} s for the "
                                             f"camera to power up (setting wait_41_s)", NOT_EXECUTABLE) from None
                    self.stats["retried_41"] += 1
                    first = _UNSENT
            # outside the lock: other cameras on a shared serial chain are served meanwhile
            self._pause.wait(WAIT_41_STEP)

    def _powering_up_until(self, refusal: DeviceRejected) -> float:
        """When to give up a command refused with 41, if the camera is powering up; raises
        ``refusal`` (or says the camera is in standby) when it is not."""
        if self.s.wait_41_s <= 0:
            raise refusal
        power = None
        if self.power_state is not None:
            try:
                power = self.power_state()    # refused with 41 as well: powering up (noted)
            except DeviceRejected as exc:
                if exc.code != NOT_EXECUTABLE:
                    raise refusal from None
            except DeviceError:
                raise refusal from None
        if power == "standby":
            raise DeviceRejected(f"{refusal}: the camera is in standby", NOT_EXECUTABLE) from None
        now = time.monotonic()
        if self._powered_at is not None and now < self._powered_at + self.s.wait_41_s:
            return self._powered_at + self.s.wait_41_s
        raise refusal

    def initialise(self) -> None:
        with self.link.lock:
            if not self.link.is_open:
                self.link.open()
            self._stray.clear()
            self.link.initialise(self.s.ack_timeout, self.s.retries)
            self.powered_up()    # a camera (re)connected to may just have been switched on

    # --- the exchange -------------------------------------------------------------------

    def _idle(self, seconds: float) -> None:
        """Wait, consuming (and so discarding) whatever arrives meanwhile."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.link.recv(left)

    def _is_stray(self, reply: Reply, acked: int | None) -> bool:
        """A reply that belongs to an earlier command we did not wait for (raw links)."""
        if reply.socket == acked:
            return False
        now = time.monotonic()
        for sock, expiry in list(self._stray.items()):
            if expiry < now:
                del self._stray[sock]
        if reply.socket in self._stray and reply.kind in ("completion", "error"):
            del self._stray[reply.socket]
            return True
        return False

    def _exchange(self, pkt: bytes, what: str, wait: bool, idempotent: bool, inquiry: bool,
                  first=_UNSENT, done_within: float | None = None) -> Outcome:
        s, link = self.s, self.link
        completion_timeout = done_within or s.completion_timeout
        may_resend = inquiry or link.dedup or (idempotent and s.resend_raw)
        if first is _UNSENT:
            link.send(pkt)
        self.stats["sent"] += 1
        attempts, acked, ran, garbage, reset_done = 1, None, False, "", False
        done_by, probed = _NEVER, False
        deadline = time.monotonic() + s.ack_timeout
        while True:
            if first is not _UNSENT:    # the event link.ask() brought (None: its wait ran out)
                ev, first = first, _UNSENT
            else:
                left = deadline - time.monotonic()
                ev = link.recv(left) if left > 0 else None
            if ev is None:
                if ran:  # it ran; its Completion did not come: say so, do not wait forever
                    return Outcome(None, acked, attempts)
                if acked is not None:
                    now = time.monotonic()
                    if now >= done_by:
                        raise DeviceTimeout(f"{what}: the camera at {link.describe()} accepted it but sent no "
                                            f"Completion within {completion_timeout:g} s")
                    if may_resend:
                        # The Completion may be lost. Over IP a resend with the same sequence
                        # number is answered 0F 01 (it ran) and cannot run it twice; on raw
                        # links only an idempotent command is sent again (it lands the same).
                        link.send(pkt, resend=True)
                        self.stats["probes"] += 1
                        probed = True
                    deadline = min(done_by, now + s.completion_probe)
                    continue
                if attempts > s.retries:
                    if garbage:
                        raise ProtocolError(f"{what}: no valid reply from {link.describe()} after {attempts} tries; "
                                            f"last unreadable reply: {garbage}")
                    raise DeviceTimeout(f"{what}: no reply from the camera at {link.describe()} "
                                        f"after {attempts} tries of {s.ack_timeout:g} s")
                if not may_resend:
                    raise DeviceTimeout(f"{what}: no reply from the camera at {link.describe()} within "
                                        f"{s.ack_timeout:g} s; not resent because this camera cannot tell a "
                                        f"resend and the command would run twice")
                link.send(pkt, resend=True)
                self.stats["resent"] += 1
                attempts += 1
                deadline = time.monotonic() + s.ack_timeout
                continue
            kind, value = ev
            if kind == "garbage":
                self.stats["garbage"] += 1
                garbage = value
                log.debug("%s: %s", link.describe(), value)
                continue
            if kind == "reset":
                continue
            if kind == "control":
                if value == framing.ERR_SEQUENCE and (attempts > 1 or acked is not None) and not inquiry:
                    # Sony: the resend answered "sequence wrong": the first copy ran, its reply was lost.
                    ran = True
                    if not wait:
                        return Outcome(None, acked, attempts)
                    deadline = time.monotonic() + s.completion_grace
                    continue
                if value == framing.ERR_SEQUENCE and not reset_done:
                    # Out of step with the camera (it restarted?): RESET and send again.
                    reset_done = True
                    link.initialise(s.ack_timeout, s.retries)
                    self.powered_up()
                    link.send(pkt)
                    deadline = time.monotonic() + s.ack_timeout
                    continue
                names = {framing.ERR_SEQUENCE: "sequence number wrong", framing.ERR_TYPE: "message type wrong"}
                raise ProtocolError(f"{what}: camera at {link.describe()} answered control error "
                                    f"{hexs(value)} ({names.get(value, 'unknown')})")
            reply: Reply = value
            if reply.kind in ("network_change", "address_set", "if_clear"):
                continue
            if not link.matches_replies and self._is_stray(reply, acked):
                self.stats["stale"] += 1
                continue
            if reply.kind == "ack":
                if inquiry:
                    continue  # inquiries are not ACKed; tolerate cameras that do
                if acked is None:
                    acked = reply.socket
                    if not wait:
                        if not link.matches_replies:
                            self._stray[reply.socket] = time.monotonic() + completion_timeout
                        return Outcome(reply, acked, attempts)
                    done_by = time.monotonic() + completion_timeout
                    deadline = min(done_by, time.monotonic() + s.completion_probe)
                continue
            if reply.kind == "completion":
                if inquiry and not reply.data or not inquiry and reply.data:
                    # not the answer this request is owed: note it, keep waiting for the right one
                    self.stats["stale"] += 1
                    garbage = f"{'empty Completion' if inquiry else 'inquiry answer'} {hexs(reply.raw)}"
                    continue
                return Outcome(reply, acked if acked is not None else reply.socket, attempts)
            if reply.kind == "error":
                if reply.code == 0x03 and acked is None:
                    raise _Busy(reply)
                if probed and reply.code in (0x03, 0x41):
                    continue   # the probe found the camera busy with our command: keep waiting
                if ran and reply.code == 0x04:
                    return Outcome(None, acked, attempts)
                raise reply.error(what)
            raise ProtocolError(f"{what}: unexpected reply {hexs(reply.raw)}")
