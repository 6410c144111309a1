"""Light on the Pi: a command that needs no pictures does not load OpenCV, and the room's OpenCV
runs on the threads we chose, not a pool spinning beside the hearing."""
import subprocess
import sys


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_help_and_commands_without_pictures_do_not_import_cv2():
    loaded = _python("import sys\nfrom vksroom import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
                     "print(sorted(m for m in ('cv2', 'numpy') if m in sys.modules))")
    assert loaded.splitlines()[-1] == "[]"


def test_the_picture_check_runs_opencv_on_one_thread():
    assert _python("from vksroom.drivers.video import quality, capture\nimport cv2\nprint(cv2.getNumThreads())") == "1"
