"""Run the VISCA camera simulator alone: ``python -m vksroom.hil.visca_camera --help``."""
from __future__ import annotations

import argparse

from vksroom.hil.standalone import run_until_stopped
from vksroom.hil.visca_camera import QUIRKS, REAL_BOOT_S, TRANSPORTS, CameraSimulator


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m vksroom.hil.visca_camera",
                                description="A VISCA PTZ camera simulator (Sony VISCA over IP, raw TCP/UDP, serial pty). "
                                            "Prints its URL; SIGHUP power-cycles it, SIGTERM or Ctrl-C stops it.")
    p.add_argument("--transport", choices=TRANSPORTS, default="visca-ip")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=52381, help="port (0 picks a free one; default 52381)")
    p.add_argument("--chain", type=int, default=1, help="cameras on the serial daisy chain (1-7)")
    p.add_argument("--state-file", help="JSON file keeping presets across restarts")
    p.add_argument("--boot-s", type=float, default=REAL_BOOT_S,
                   help=f"power-up period answering error 41 (s; default {REAL_BOOT_S:g}, as a real camera)")
    p.add_argument("--ack-delay", type=float, default=0.025, help="time before each ACK (s); a BRC-300 ~0.025")
    p.add_argument("--presets", type=int, default=16, help="number of preset slots")
    p.add_argument("--baud", type=int, default=9600, help="serial: the baud rate in the URL and for --wire-timing")
    p.add_argument("--wire-timing", action="store_true", help="serial: replies take 10 bits a byte at --baud")
    p.add_argument("--loss", type=float, default=0.0, help="fraction of packets lost each way")
    p.add_argument("--delay", type=float, default=0.0, help="extra seconds before each reply")
    p.add_argument("--drop-ack", type=float, default=0.0, help="fraction of ACKs dropped")
    p.add_argument("--drop-completion", type=float, default=0.0, help="fraction of Completions dropped")
    p.add_argument("--garbage", type=float, default=0.0, help="fraction of replies preceded by junk bytes")
    p.add_argument("--seed", type=int, help="random seed for the faults")
    p.add_argument("--quirk", action="append", default=[], choices=sorted(QUIRKS),
                   help="switch on a real-camera quirk (repeatable): " +
                        "; ".join(f"{k}: {v}" for k, v in QUIRKS.items()))
    a = p.parse_args(argv)
    try:
        sim = CameraSimulator(
            transport=a.transport, host=a.host, port=a.port, state_file=a.state_file, chain=a.chain,
            boot_s=a.boot_s, ack_delay=a.ack_delay, presets=a.presets, loss=a.loss, delay=a.delay,
            drop_ack=a.drop_ack, drop_completion=a.drop_completion, garbage=a.garbage, seed=a.seed,
            baud=a.baud, wire_timing=a.wire_timing,
            **{q: True for q in a.quirk})
        sim.start()
    except (ValueError, OSError) as exc:
        p.error(str(exc))
    # SIGHUP: a power cycle (off, then on again on the same port, booting)
    return run_until_stopped(sim, f"VISCA camera simulator at {sim.url}"
                             + (f" (cameras 1-{a.chain})" if a.chain > 1 else ""), sim.restart)


if __name__ == "__main__":
    raise SystemExit(main())
