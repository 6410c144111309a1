"""Is the system clock true? A Raspberry Pi has no real-time clock: until NTP has set it, the
clock says whatever fake-hwclock saved at the last shutdown (or 1970), and every hearing time,
the 24 h rule, acts and records would be wrong.

* :func:`kernel_synchronised` asks the kernel (``adjtimex``, read-only: ``STA_UNSYNC`` and the
  ``TIME_ERROR`` state), which is what systemd-timesyncd and chrony set; no privileges needed.
* :func:`timedatectl_synchronised` asks systemd (``timedatectl show -p NTPSynchronized``).
* :func:`system_synchronised` asks the kernel, and systemd when the kernel cannot be asked.

:class:`ClockGuard` watches such a probe (injectable: tests pass their own) and tells the room:
a system check ``clock`` that fails while the clock is not synchronised (the room shows it as a
fault in readiness), and its listeners (the lifecycle holds the actions that depend on the
hearing time, and plans again once the clock is true).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import shutil
import subprocess
import threading
from typing import Callable

log = logging.getLogger(__name__)

STA_UNSYNC = 0x0040
TIME_ERROR = 5
CLOCK_CHECK = "clock"


class _Timex(ctypes.Structure):
    """``struct timex`` (linux/timex.h): the fields up to ``tai`` and the kernel's padding."""
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
                ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long), ("tick", ctypes.c_long),
                ("ppsfreq", ctypes.c_long), ("jitter", ctypes.c_long), ("shift", ctypes.c_int),
                ("stabil", ctypes.c_long), ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long),
                ("errcnt", ctypes.c_long), ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int),
                ("_pad", ctypes.c_int * 11)]


def kernel_synchronised() -> bool | None:
    """The kernel's word (adjtimex with no modes: a read); None when it cannot be asked."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        adjtimex = libc.adjtimex
    except (OSError, AttributeError):
        return None
    tx = _Timex()
    state = adjtimex(ctypes.byref(tx))
    if state < 0:
        return None
    return state != TIME_ERROR and not tx.status & STA_UNSYNC


def timedatectl_synchronised() -> bool | None:
    """systemd's word; None without timedatectl or a booted systemd."""
    exe = shutil.which("timedatectl")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "show", "-p", "NTPSynchronized", "--value"], capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    answer = out.stdout.strip()
    return {"yes": True, "no": False}.get(answer) if out.returncode == 0 else None


def system_synchronised() -> bool | None:
    found = kernel_synchronised()
    return found if found is not None else timedatectl_synchronised()


class ClockGuard:
    """A service on the room: asks ``probe`` now and every ``interval_s``; on each change the
    room's system check ``clock`` and the listeners hear of it. A probe that cannot say (None)
    counts as synchronised: a machine we cannot ask is not held hostage."""

    def __init__(self, room, probe: Callable[[], bool | None] = system_synchronised, interval_s: float = 30.0):
        self.room = room
        self.probe = probe
        self.interval_s = interval_s
        self._listeners: list[Callable[[bool], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.synchronised: bool | None = None   # None until first asked

    def on_change(self, fn: Callable[[bool], None]) -> None:
        self._listeners.append(fn)

    def start(self) -> None:
        self.check()
        self._thread = threading.Thread(target=self._run, name="clock-guard", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()

    def check(self) -> bool:
        """Ask the probe now; tell the room and the listeners when the answer changed."""
        try:
            said = self.probe()
        except Exception:
            log.exception("clock guard: the probe failed")
            said = None
        synced = said is not False
        if synced == self.synchronised:
            return synced
        self.synchronised = synced
        (log.info if synced else log.error)("system clock %s", "synchronised" if synced else "NOT synchronised "
                                            "(no NTP yet): actions that depend on the hearing time are held")
        self.room.set_system_check(CLOCK_CHECK, synced, "system.clock_synced" if synced else "system.clock_unsynced",
                                   detail="" if synced else "adjtimex: STA_UNSYNC / timedatectl NTPSynchronized=no")
        for fn in list(self._listeners):
            try:
                fn(synced)
            except Exception:
                log.exception("clock guard: a listener failed")
        return synced
