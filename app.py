"""The entry module: wires drivers, controller, panel and MQTT link together.

(Being filled in by the walking skeleton.)
"""
from __future__ import annotations

import argparse


def cmd_config_check(args) -> int:
    from vksroom.controller.config import load

    cfg = load(args.file)
    print(f"{args.file}: OK ({len(cfg.devices)} devices, court {cfg.court_id}, courtroom {cfg.courtroom})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="room configuration tools")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    c = csub.add_parser("check", help="validate a room configuration file (exit 0 valid, 2 invalid)")
    c.add_argument("file", help="path to the room TOML file")
    c.set_defaults(func=cmd_config_check)
