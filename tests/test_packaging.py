"""The wheel the Pi gets: everything under `vksroom`, nothing generic at the top level,
templates included, no tests or build script inside."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(180)
def test_wheel_installs_everything_under_vksroom_only(tmp_path):
    src = tmp_path / "src"   # a clean copy: no build/ left over from an earlier build can leak in
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                                             ".pytest_cache", ".hypothesis"))
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                   check=True, capture_output=True, timeout=170)
    wheel = next(out.glob("vksroom-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"vksroom"}
    for needed in ("vksroom/__init__.py", "vksroom/app.py", "vksroom/cli.py", "vksroom/controller/room.py",
                   "vksroom/drivers/transport.py", "vksroom/web/templates/room.html", "vksroom/web/static/panel.js",
                   "vksroom/mqtt/link.py", "vksroom/hil/demo.py"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("vksroom/tests/", "vksroom/benchmarks/")) or n == "vksroom/setup.py"]
    entry = [n for n in names if n.endswith("entry_points.txt")]
    assert "vks-room = vksroom.cli:main" in zipfile.ZipFile(wheel).read(entry[0]).decode()
