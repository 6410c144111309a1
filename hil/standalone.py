"""Running one simulator alone from the command line, as bench equipment: it says where it is,
SIGHUP power-cycles it, SIGTERM or Ctrl-C stops it."""
from __future__ import annotations

import os
import select
import signal
import threading
from typing import Callable


def wait_for_stop(on_hup: Callable[[], None] | None = None) -> None:
    """Block until SIGTERM or Ctrl-C; on SIGHUP call ``on_hup`` and go on waiting.

    The kernel hands a process's signal to any of its threads; Python runs the handler in the
    main thread only once that thread runs again, and a main thread asleep in ``Event.wait()``
    does not (a simulator under load then ignored SIGTERM: 1 of 40 stops hung). The handler's
    wake-up pipe (``signal.set_wakeup_fd``) wakes the main thread whichever thread got it."""
    stop = threading.Event()
    handlers = {signal.SIGINT: lambda *_: stop.set(), signal.SIGTERM: lambda *_: stop.set()}
    if on_hup is not None:
        handlers[signal.SIGHUP] = lambda *_: on_hup()
    previous = {s: signal.signal(s, h) for s, h in handlers.items()}
    r, w = os.pipe()
    os.set_blocking(w, False)
    old_fd = signal.set_wakeup_fd(w)
    try:
        while not stop.is_set():
            select.select([r], [], [])      # Python runs the handler as soon as this returns
            os.read(r, 512)
    finally:
        signal.set_wakeup_fd(old_fd)
        os.close(r)
        os.close(w)
        for s, handler in previous.items():
            signal.signal(s, handler)


def run_until_stopped(sim, banner: str, power_cycle) -> int:
    """Print ``banner``; on SIGHUP run ``power_cycle`` (in a thread: it waits for sockets);
    on SIGTERM or Ctrl-C close ``sim`` and return 0."""
    print(banner, flush=True)
    try:
        wait_for_stop(on_hup=lambda: threading.Thread(target=power_cycle, daemon=True).start())
    finally:
        sim.close()
    return 0
