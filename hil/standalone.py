"""Running one simulator alone from the command line, as bench equipment: it says where it is,
SIGHUP power-cycles it, SIGTERM or Ctrl-C stops it."""
from __future__ import annotations

import signal
import threading


def run_until_stopped(sim, banner: str, power_cycle) -> int:
    """Print ``banner``; on SIGHUP run ``power_cycle`` (in a thread: it waits for sockets);
    on SIGTERM or Ctrl-C close ``sim`` and return 0."""
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=power_cycle, daemon=True).start())
    print(banner, flush=True)
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.close()
    return 0
