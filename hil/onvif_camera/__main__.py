"""Run the ONVIF camera simulator alone: ``python -m vksroom.hil.onvif_camera --help``."""
from __future__ import annotations

import argparse

from vksroom.hil.onvif_camera import REAL_BOOT_S, OnvifCameraSimulator
from vksroom.hil.standalone import run_until_stopped


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m vksroom.hil.onvif_camera",
                                description="An ONVIF Profile S PTZ camera simulator (SOAP 1.2 over HTTP on "
                                            "127.0.0.1) with its picture as MJPEG. Prints its URL; SIGHUP "
                                            "power-cycles it, SIGTERM or Ctrl-C stops it.")
    p.add_argument("--port", type=int, default=8000, help="ONVIF port (0 picks a free one; default 8000)")
    p.add_argument("--video-port", type=int, default=0, help="port of the MJPEG picture (default: a free one)")
    p.add_argument("--no-video", action="store_true", help="no picture (saves the CPU the renderer takes)")
    p.add_argument("--user", default="admin")
    p.add_argument("--password", default="admin-pass")
    p.add_argument("--boot-s", type=float, default=REAL_BOOT_S,
                   help=f"seconds after power-on answering 'not ready' (default {REAL_BOOT_S:g}, as a real camera)")
    p.add_argument("--boot-reply", choices=("503", "fault"), default="503",
                   help="while booting: HTTP 503, or a Receiver fault 'initializing'")
    p.add_argument("--clock-offset-s", type=float, default=0.0, help="the camera's clock off real time (s)")
    p.add_argument("--max-skew-s", type=float, default=5.0, help="how far a token's Created may be off the camera's clock")
    p.add_argument("--state-file", help="JSON file keeping presets across restarts")
    p.add_argument("--max-presets", type=int, default=64)
    p.add_argument("--delay", type=float, default=0.0, help="extra seconds before each answer")
    p.add_argument("--drop", type=float, default=0.0, help="fraction of requests whose connection is cut unanswered")
    p.add_argument("--garbage", type=float, default=0.0, help="fraction of answers replaced by junk")
    p.add_argument("--seed", type=int, help="random seed for the faults")
    p.add_argument("--xaddr-host", help="host written in the service addresses (as a camera behind NAT)")
    p.add_argument("--old", action="store_true", help="an older camera: no GetServices, only GetCapabilities")
    a = p.parse_args(argv)
    try:
        sim = OnvifCameraSimulator(
            port=a.port, video_port=a.video_port, video=not a.no_video, username=a.user, password=a.password,
            boot_s=a.boot_s, boot_reply=a.boot_reply, clock_offset_s=a.clock_offset_s, max_skew_s=a.max_skew_s,
            state_file=a.state_file, max_presets=a.max_presets, delay=a.delay, drop=a.drop, garbage=a.garbage,
            seed=a.seed, xaddr_host=a.xaddr_host, get_services=not a.old)
        sim.start()
    except (ValueError, OSError) as exc:
        p.error(str(exc))
    picture = f"; picture {sim.stream_url()}" if not a.no_video else ""
    return run_until_stopped(sim, f"ONVIF camera simulator at {sim.url}{picture}", sim.power_cycle)


if __name__ == "__main__":
    raise SystemExit(main())
