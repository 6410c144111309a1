"""The room process of the crash tests (room_proc.py, run as a script): start it, read its lines."""
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent   # room_proc.py, the script


def spawn(url, data_dir, *extra):
    return subprocess.Popen([sys.executable, str(HERE / "room_proc.py"), url, str(data_dir), *map(str, extra)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def read_until(proc, word, timeout=30.0):
    lines = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"room process ended before {word!r}")
        lines.append(line.strip())
        if line.strip() == word:
            return lines
    raise AssertionError(f"no {word!r} within {timeout} s")
