"""The ``vks-room`` command line.

Each command lives with the layer it belongs to and registers itself through a
``register(subparsers)`` function; this module only assembles them. Exit status:
0 success (room ready), 1 the device or room said no, 2 usage or configuration error.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from vksroom.drivers.errors import UsageError  # noqa: F401  (raised by every layer's commands; re-exported)

COMMAND_MODULES = (
    "vksroom.app",                 # run, demo, selftest, config check
    "vksroom.drivers.visca.cli",   # visca URL power|on|standby|home|position|version|recall|store|move|zoom
    "vksroom.drivers.video.commands",   # check-frame, reference (cv2 imported when one runs)
    "vksroom.mqtt.fleet",          # fleet watch, fleet simulate
    "vksroom.hil.runner",          # hil: the same device checks against bench hardware
)


def _version() -> str:
    from vksroom import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vks-room",
        description="Courtroom VKS room controller: devices, self-test, panel and MQTT readiness.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument("--version", action="version", version=f"vks-room {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


# syslog priorities (sd-daemon(3)): journald reads a "<N>" line prefix as the line's priority
SYSLOG_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


class JournalFormatter(logging.Formatter):
    """Lines for journald: the priority as a ``<N>`` prefix (``journalctl -p err`` finds errors),
    no timestamp of our own (the journal keeps its own), a traceback on continuation lines."""

    def __init__(self):
        super().__init__("%(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        prio = SYSLOG_PRIORITY.get(record.levelno, 6 if record.levelno < logging.WARNING else 3)
        return "\n".join(f"<{prio}>{line}" for line in super().format(record).splitlines() or [""])


def under_journald(environ=None, stream=None) -> bool:
    """Whether ``stream`` (stderr) is the journal systemd connected us to: JOURNAL_STREAM names
    its device and inode (systemd.exec(5)); a redirected stderr no longer matches."""
    import os

    environ = os.environ if environ is None else environ
    stream = sys.stderr if stream is None else stream
    dev, _, ino = environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        st = os.fstat(stream.fileno())
        return bool(dev and ino) and (st.st_dev, st.st_ino) == (int(dev), int(ino))
    except (OSError, ValueError, AttributeError):
        return False


def setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JournalFormatter() if under_journald()
                         else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    # Python warnings (gpiozero's "falling back from pigpio" on every start) through the same
    # handler: under journald a warning's lines carry <4>, not the journal's default priority
    logging.captureWarnings(True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    from vksroom.controller.config import ConfigInvalid
    from vksroom.drivers.errors import ConfigError

    try:
        return int(args.func(args) or 0)
    except ConfigInvalid as exc:
        if exc.source:
            print(f"vks-room: invalid configuration {exc.source}:", file=sys.stderr)
        for line in exc.errors:
            print(f"  {line}", file=sys.stderr)
        return 2
    except ConfigError as exc:     # a device setting its driver refused as the room was built
        print(f"vks-room: invalid configuration: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"vks-room: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
