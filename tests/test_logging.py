"""Logs under systemd: journald gets each line's priority and no timestamp of ours; elsewhere a
person reading a terminal gets the time."""
import logging
import os
import subprocess
import sys

from vksroom import cli


def record(level, msg, exc_info=None):
    return logging.LogRecord("vksroom.room", level, __file__, 1, msg, (), exc_info)


def test_journal_lines_carry_the_syslog_priority_and_no_time():
    f = cli.JournalFormatter()
    assert f.format(record(logging.ERROR, "codec lost")) == "<3>vksroom.room: codec lost"
    assert f.format(record(logging.WARNING, "x")).startswith("<4>")
    assert f.format(record(logging.INFO, "x")).startswith("<6>")
    try:
        1 / 0
    except ZeroDivisionError:
        lines = f.format(record(logging.ERROR, "failed", sys.exc_info())).splitlines()
    assert len(lines) > 2 and all(line.startswith("<3>") for line in lines)   # the traceback stays an error


def test_journald_is_recognised_by_the_stream_systemd_named(tmp_path):
    with open(tmp_path / "journal", "w") as journal, open(tmp_path / "other", "w") as other:
        st = os.fstat(journal.fileno())
        env = {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}
        assert cli.under_journald(env, journal)
        assert not cli.under_journald(env, other)       # stderr redirected elsewhere: a terminal's format
        assert not cli.under_journald({}, journal)


def test_the_command_logs_for_the_journal_when_its_stderr_is_the_journal(tmp_path):
    code = ("import logging, sys, warnings; from vksroom import cli; cli.setup_logging(False); "
            "logging.getLogger('vksroom').error('boom'); warnings.warn('no pin factory')")
    path = tmp_path / "stderr"
    with open(path, "w") as err:
        st = os.fstat(err.fileno())
        subprocess.run([sys.executable, "-c", code], stderr=err, timeout=60, check=True,
                       env={**os.environ, "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
    lines = path.read_text().splitlines()
    assert lines[0] == "<3>vksroom: boom"
    assert "UserWarning: no pin factory" in lines[1] and all(line.startswith("<4>") for line in lines[1:])
    with open(path, "w") as err:
        subprocess.run([sys.executable, "-c", code], stderr=err, timeout=60, check=True,
                       env={k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"})
    assert path.read_text().splitlines()[0].split(" ", 2)[2] == "ERROR vksroom: boom"   # date, time, the line
