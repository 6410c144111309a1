"""Is the room's data directory durable? With Raspberry Pi OS's overlay file system (a read-only
root, writes kept in RAM) or a tmpfs, the durable MQTT outbox, the schedule, the hearing records
and the acts would be lost at the next power cut. The data directory belongs on a writable
partition (docs/read-only-root.md); a room whose data is in RAM says so as a fault.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

STORAGE_CHECK = "storage"
# statfs(2) f_type of file systems that live in memory
VOLATILE = {0x01021994: "tmpfs", 0x794C7630: "overlayfs", 0x858458F6: "ramfs"}


class _Statfs(ctypes.Structure):
    _fields_ = [("f_type", ctypes.c_long), ("_rest", ctypes.c_long * 15)]


def fs_type(path: str | Path) -> int | None:
    """The file system type (statfs f_type) holding ``path``; None when it cannot be asked."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        buf = _Statfs()
        if libc.statfs(os.fsencode(str(path)), ctypes.byref(buf)) != 0:
            return None
        return buf.f_type & 0xFFFFFFFF
    except (OSError, AttributeError):
        return None


def volatile(path: str | Path) -> str:
    """The in-memory file system holding ``path`` ("tmpfs", "overlayfs"...), or "" when durable."""
    p = Path(path)
    while not p.exists() and p != p.parent:   # not made yet: the file system it will be made on
        p = p.parent
    kind = fs_type(p)
    return VOLATILE.get(kind, "") if kind is not None else ""
