"""``vks-room visca URL ACTION``: a technician's tool for one camera.

Prints one JSON line with the result. Exit 0 on success, 1 when the camera failed or
refused (the VISCA error is named), 2 on a usage error (bad URL, bad number)::

    vks-room visca visca-ip://10.0.0.21 power
    vks-room visca visca-serial:///dev/ttyUSB0?baud=9600&address=2 recall 3
    vks-room visca visca-tcp://10.0.0.22:5678 move -- -200 100
"""
from __future__ import annotations

import argparse
import json
import sys

ACTIONS = {
    # action: (number of integer arguments, help)
    "power": (0, "power state (on/standby)"),
    "on": (0, "power on (waits until booted)"),
    "standby": (0, "standby"),
    "home": (0, "pan-tilt home"),
    "position": (0, "pan, tilt and zoom position"),
    "version": (0, "vendor, model, ROM, sockets"),
    "recall": (1, "recall preset N (waits for completion)"),
    "store": (1, "store the current view as preset N"),
    "move": (2, "move to absolute PAN TILT"),
    "zoom": (1, "zoom to position Z"),
    "freeze": (0, "picture freeze state (on/off; null: the camera has none)"),
    "freeze-on": (0, "hold the picture still (CAM_Freeze on)"),
    "freeze-off": (0, "live picture again (CAM_Freeze off)"),
}


def _run(cam, action: str, nums: list[int]) -> dict:
    if action == "power":
        return {"power": cam.power()}
    if action == "on":
        cam.power_on()
        return {"power": cam.power()}
    if action == "standby":
        cam.standby()
        return {"power": "standby"}
    if action in ("freeze-on", "freeze-off"):
        cam.freeze(action == "freeze-on")
    if action.startswith("freeze"):
        return {"freeze": cam.freeze_mode()}
    if action == "home":
        cam.home()
    elif action == "recall":
        cam.recall(nums[0])
    elif action == "store":
        cam.store(nums[0])
        return {"stored": nums[0]}
    elif action == "move":
        cam.move_absolute(nums[0], nums[1])
    elif action == "zoom":
        cam.zoom_to(nums[0])
        return {"zoom": cam.zoom_position()}
    elif action == "version":
        return {"version": cam.version()}
    pan, tilt = cam.position()
    return {"pan": pan, "tilt": tilt, "zoom": cam.zoom_position()}


def _settings(pairs: list[str]) -> dict:
    from vksroom.drivers.errors import UsageError

    out: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--set wants KEY=VALUE, got {pair!r}")
        for conv in (int, float):
            try:
                out[key] = conv(value)
                break
            except ValueError:
                continue
        else:
            low = value.lower()
            out[key] = (low == "true") if low in ("true", "false") else value
    return out


def cmd_visca(args) -> int:
    from vksroom.drivers.errors import ConfigError, DeviceError, UsageError
    from vksroom.drivers.visca import open_camera

    want, _ = ACTIONS[args.action]
    if len(args.numbers) != want:
        raise UsageError(f"visca {args.action} takes {want} number(s), got {len(args.numbers)}")
    nums = []
    for text in args.numbers:
        try:
            nums.append(int(text, 0))
        except ValueError:
            raise UsageError(f"{text!r} is not a whole number") from None
    result = {"url": args.url, "action": args.action}
    cam = None
    try:
        cam = open_camera(args.url, **_settings(args.set))
        result.update(_run(cam, args.action, nums))
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    except DeviceError as exc:
        print(json.dumps({**result, "ok": False, "error": str(exc), "code": getattr(exc, "code", None)}))
        return 1
    finally:
        if cam is not None:
            cam.close()
    print(json.dumps({**result, "ok": True}))
    sys.stdout.flush()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "visca", help="talk to one VISCA camera (prints one JSON line)",
        description="Talk to one PTZ camera over VISCA. URL: visca-ip://HOST[:PORT], visca-tcp://HOST:PORT, "
                    "visca-udp://HOST:PORT or visca-serial:///dev/ttyUSB0?baud=9600&address=1. "
                    "Actions: " + "; ".join(f"{k}: {v[1]}" for k, v in ACTIONS.items()) +
                    ". Exit 0 ok, 1 camera error, 2 usage error.")
    p.add_argument("url", help="camera URL")
    p.add_argument("action", choices=list(ACTIONS))
    p.add_argument("numbers", nargs="*", help="preset number, PAN TILT, or zoom position")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a driver setting, e.g. --set ack_timeout=0.3 --set sequence=zero")
    p.set_defaults(func=cmd_visca)
