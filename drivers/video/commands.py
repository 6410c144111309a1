"""The picture commands' arguments (``check-frame``, ``reference``), registered without OpenCV:
``vks-room --help`` and every other command must not pay for importing cv2 and numpy (80 MB on
a Pi). The commands themselves live in :mod:`vksroom.drivers.video.cli`, imported when one runs."""
from __future__ import annotations

import argparse
import importlib
import os

DEFAULT_DATA_DIR = os.environ.get("VKSROOM_DATA_DIR", "/var/lib/vksroom")


def _lazy(name: str):
    def run(args):
        return getattr(importlib.import_module("vksroom.drivers.video.cli"), name)(args)
    run.__name__ = name
    return run


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-frame", help="judge the picture in an image or video file (exit 0 ok, 1 fault, 2 unreadable)")
    p.add_argument("path", help="image (PNG, JPEG...) or video file")
    p.add_argument("--reference", action="append", default=[], metavar="REF",
                   help="good picture of the same camera preset (image or folder); repeatable")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    p.add_argument("--rate", type=float, default=2.0, help="video: frames judged per second of video (default 2)")
    p.add_argument("--seconds", type=float, default=30.0, help="video: judge at most this many seconds (default 30)")
    p.set_defaults(func=_lazy("cmd_check_frame"))

    r = sub.add_parser("reference", help="reference pictures per camera preset")
    rsub = r.add_subparsers(dest="reference_command", metavar="ACTION", required=True)
    a = rsub.add_parser("add", help="store a reference from an image file or a stream URL")
    a.add_argument("source", help="image/video file, or stream URL (http://..., rtsp://..., /dev/video0)")
    a.add_argument("--camera", required=True, help="camera device id")
    a.add_argument("--preset", required=True, help="preset number or role")
    a.add_argument("--label", default="", help="e.g. full, dimmed")
    a.add_argument("--data-dir", default=DEFAULT_DATA_DIR, help=f"room data directory (default {DEFAULT_DATA_DIR})")
    a.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a picture from a stream")
    a.add_argument("--force", action="store_true", help="store even if the picture looks black, dark or blurred")
    a.set_defaults(func=_lazy("cmd_reference_add"))
    ls = rsub.add_parser("list", help="list stored references")
    ls.add_argument("--camera", default=None)
    ls.add_argument("--data-dir", default=DEFAULT_DATA_DIR)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_lazy("cmd_reference_list"))
