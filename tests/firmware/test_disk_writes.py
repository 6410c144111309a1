"""What the room's SQLite costs an SD card, bounded (docs/read-only-root.md): the MQTT outbox syncs
once per event it must not lose and not for an acknowledgement; the room's own database (WAL,
synchronous=NORMAL) syncs no row, only at checkpoints. Counted with strace on a real process
writing real databases; the rate during a hearing is then that of its events (benchmarks/pi_load.py
measured 1.2 fsync a second)."""
import shutil
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not shutil.which("strace"), reason="strace counts the fsync calls")

ROWS = 40
SETUP = 20   # opening a database: WAL and its schema, each table a commit (once per start)


def syncs(tmp_path, code: str) -> int:
    """fsync + fdatasync calls made by a Python process running ``code`` (strace -c)."""
    summary = tmp_path / "strace.txt"
    done = subprocess.run(["strace", "-f", "-c", "-o", str(summary), "-e", "trace=fsync,fdatasync",
                           sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path)
    if done.returncode != 0 and "ptrace" in done.stderr:
        pytest.skip(f"strace may not trace here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    return sum(int(line.split()[3]) for line in summary.read_text().splitlines()
               if line.strip().endswith(("fsync", "fdatasync")) and len(line.split()) >= 5)


def test_the_outbox_syncs_once_per_event_kept_and_never_for_an_ack(tmp_path):
    opened = syncs(tmp_path, "from vksroom.mqtt.outbox import Outbox; Outbox('a.sqlite3').close()")
    puts = syncs(tmp_path, "from vksroom.mqtt.outbox import Outbox\n"
                           "o = Outbox('b.sqlite3')\n"
                           f"for i in range({ROWS}): o.put('vks/c/1/event', {{'n': i}})\n"
                           "o.close()")
    acked = syncs(tmp_path, "from vksroom.mqtt.outbox import Outbox\n"
                            "o = Outbox('c.sqlite3')\n"
                            f"seqs = [o.put('vks/c/1/event', {{'n': i}}) for i in range({ROWS})]\n"
                            "for s in seqs: o.ack(s)\n"
                            "o.close()")
    assert opened <= SETUP
    assert ROWS <= puts - opened <= ROWS + 2, (opened, puts)   # one FULL commit, one fsync, per event
    assert acked - puts <= 2                          # acks commit NORMAL: no sync of their own


def test_the_room_database_syncs_no_row(tmp_path):
    opened = syncs(tmp_path, "from vksroom.controller.store import Store; Store('a.sqlite3')")
    rows = syncs(tmp_path, "from vksroom.controller.store import Store\n"
                           "s = Store('b.sqlite3')\n"
                           f"for i in range({ROWS}): s.log_device('codec', i % 2 == 0, 'unplugged')\n")
    assert rows - opened <= 2, f"{rows - opened} syncs for {ROWS} rows: room.sqlite3 must not sync per row"
