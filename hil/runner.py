"""The bench runner: the same device checks the room runs, pointed at real hardware.

On a bench with a camera, a codec or a DSP wired to the Pi, ``vks-room hil --config
bench.toml`` builds each configured device's adapter exactly as the controller does and,
device by device: opens it (time to connect), polls it ``--polls`` times (round-trip
median and worst), runs its self-test checks, and prints a report (``--json`` for a
machine). Pointed at the simulators (the tests do) it proves the checks; pointed at a
real device it shows how that device differs from the fact sheet.

Unlike the simulators in this folder, the runner is bench tooling on the controller's
side: it imports the controller's adapters, which is the point.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path


def run_device(adapter, polls: int = 10, check_timeout: float = 60.0, data_dir: Path | None = None) -> dict:
    from vksroom.controller.devices import CheckContext
    from vksroom.drivers.errors import DeviceError

    report = {"device": adapter.id, "kind": adapter.kind, "url": adapter.cfg.url, "ok": False}
    started = time.monotonic()
    try:
        adapter.connect()
    except DeviceError as exc:
        report.update(connect={"ok": False, "error": str(exc)})
        return report
    report["connect"] = {"ok": True, "seconds": round(time.monotonic() - started, 4)}
    times, errors, values = [], [], {}
    for _ in range(polls):
        t = time.monotonic()
        try:
            values = adapter.poll()
            times.append(time.monotonic() - t)
        except DeviceError as exc:
            errors.append(str(exc))
    report["poll"] = {"count": polls, "failed": len(errors), "errors": errors[:3],
                      "median_ms": round(statistics.median(times) * 1000, 3) if times else None,
                      "max_ms": round(max(times) * 1000, 3) if times else None}
    # what the room would see between self-tests: the poll's values judged as live checks
    report["live"] = [{"check": c.check, "ok": c.ok, "code": c.code} for c in adapter.live_checks(values or {})]
    ctx = CheckContext(deadline=time.monotonic() + check_timeout, data_dir=data_dir or Path("."), trigger="bench")
    try:
        results = adapter.run_checks(ctx)
    except DeviceError as exc:
        report["checks"] = [{"check": "checks", "ok": False, "reason": str(exc)}]
        return report
    finally:
        try:
            adapter.close()
        except DeviceError:
            pass
    report["checks"] = [{"check": r.check, "ok": r.ok, "reason": r.reason, "value": r.value} for r in results]
    report["ok"] = not errors and all(r.ok for r in results) and all(c["ok"] for c in report["live"])
    return report


def run(cfg, device_ids=None, polls: int = 10) -> list[dict]:
    from vksroom.controller.devices import adapter_for

    data_dir = Path(cfg.data_dir)
    out = []
    for dev in cfg.devices.values():
        if device_ids and dev.id not in device_ids:
            continue
        out.append(run_device(adapter_for(dev, data_dir), polls, cfg.selftest.check_timeout_s, data_dir))
    return out


def print_report(reports: list[dict]) -> None:
    for r in reports:
        head = f"{'PASS' if r['ok'] else 'FAIL'}  {r['device']} ({r['kind']}, {r['url']})"
        print(head)
        c = r.get("connect", {})
        print(f"      connect: {'%.3f s' % c['seconds'] if c.get('ok') else 'FAILED: ' + c.get('error', '')}")
        if "poll" in r:
            p = r["poll"]
            print(f"      poll x{p['count']}: median {p['median_ms']} ms, worst {p['max_ms']} ms, {p['failed']} failed")
        for chk in r.get("checks", []):
            mark = "ok  " if chk["ok"] else "FAIL"
            print(f"      {mark} {chk['check']}" + (f": {chk['reason']}" if chk["reason"] and not chk["ok"] else ""))


def cmd_hil(args) -> int:
    from vksroom.controller.config import load
    from vksroom.drivers.errors import UsageError

    cfg = load(args.config)
    unknown = set(args.device or ()) - set(cfg.devices)
    if unknown:
        raise UsageError(f"no device {', '.join(sorted(unknown))} in {args.config} (has: {', '.join(cfg.devices)})")
    from vksroom.controller.instance import RoomBusy, RoomLock

    try:   # never under a running controller: it owns the room's ports and cameras
        lock = RoomLock(cfg.data_dir).acquire("hil")
    except RoomBusy as busy:
        raise UsageError(str(busy)) from None
    try:
        reports = run(cfg, args.device, args.polls)
    finally:
        lock.release()
    if args.json:
        print(json.dumps(reports, ensure_ascii=False, indent=2, default=str))
    else:
        print_report(reports)
    return 0 if all(r["ok"] for r in reports) else 1


def register(sub) -> None:
    p = sub.add_parser("hil", help="bench: run the room's device checks against the devices in a config "
                                   "(real hardware or simulators)")
    p.add_argument("--config", required=True, help="a room TOML describing the bench's devices")
    p.add_argument("--device", action="append", help="only this device id (repeatable)")
    p.add_argument("--polls", type=int, default=10, help="light inquiries to time per device (default 10)")
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.set_defaults(func=cmd_hil)
