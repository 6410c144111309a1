"""The wheel the Pi gets: everything under `vksroom`, nothing generic at the top level,
templates included, no tests or build script inside. And the developer's `pip install -e .`:
the checkout itself, seen by Python and by the type checker alike."""
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _clean_copy(tmp_path):
    """A copy of the checkout without builds, caches or the editable link (a cycle)."""
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                                             ".pytest_cache", ".hypothesis", ".editable",
                                                             ".mypy_cache"))
    return src


def _fresh_venv(tmp_path):
    """A new environment whose only vksroom is the one installed into it; the third-party
    dependencies come from this test's environment (a path line, so no .pth of ours runs)."""
    env = tmp_path / "env"
    venv.create(env, with_pip=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(env), "platbase": str(env)}))
    (site / "deps-of-the-suite.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return env / "bin"


def _pip_install(bin_dir, *args):
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "--ignore-installed", "-q", *args],
                   check=True, capture_output=True, timeout=170)


def _run(bin_dir, tmp_path, *argv):
    """Run from a neutral directory: the checkout in the cwd must not make anything importable."""
    return subprocess.run([str(bin_dir / argv[0]), *argv[1:]], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)


def _assert_cli_runs(bin_dir, tmp_path):
    done = _run(bin_dir, tmp_path, "vks-room", "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: vks-room")


@pytest.mark.timeout(240)
def test_wheel_installs_everything_under_vksroom_only(tmp_path):
    src = _clean_copy(tmp_path)   # a clean copy: no build/ left over from an earlier build can leak in
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
                   check=True, capture_output=True, timeout=170)
    wheel = next(out.glob("vksroom-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"vksroom"}
    for needed in ("vksroom/__init__.py", "vksroom/app.py", "vksroom/cli.py", "vksroom/controller/room.py",
                   "vksroom/drivers/transport.py", "vksroom/web/templates/room.html", "vksroom/web/static/panel.js",
                   "vksroom/mqtt/link.py", "vksroom/hil/demo.py", "vksroom/py.typed"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("vksroom/tests/", "vksroom/benchmarks/")) or n == "vksroom/setup.py"]
    entry = [n for n in names if n.endswith("entry_points.txt")]
    assert "vks-room = vksroom.cli:main" in zipfile.ZipFile(wheel).read(entry[0]).decode()
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    # the version comes from git (setuptools-scm); this copy has no .git: the fallback
    assert "Version: 0.0.0\n" in metadata and "Requires-Python: >=3.11" in metadata
    assert "Provides-Extra: demo" in metadata and "Provides-Extra: test" in metadata
    # the Pi's pin factory, from PyPI where Debian has none; nowhere else
    assert "Requires-Dist: lgpio>=0.2.2; sys_platform == \"linux\" and platform_machine == \"aarch64\"" in metadata

    bin_dir = _fresh_venv(tmp_path)
    _pip_install(bin_dir, str(wheel))
    _assert_cli_runs(bin_dir, tmp_path)


@pytest.mark.timeout(240)
def test_editable_install_is_the_checkout_for_python_and_for_mypy(tmp_path):
    src = _clean_copy(tmp_path)
    bin_dir = _fresh_venv(tmp_path)
    _pip_install(bin_dir, "-e", str(src))
    _assert_cli_runs(bin_dir, tmp_path)

    # A module added after the install is there without reinstalling; generic names are not.
    (src / "drivers" / "added_later.py").write_text("WHERE = 'checkout'\n")
    probe = _run(bin_dir, tmp_path, "python", "-c",
                 "import vksroom.drivers.added_later as m, importlib.util as u; "
                 "print(m.WHERE, u.find_spec('controller'), u.find_spec('web'))")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.split() == ["checkout", "None", "None"]

    # mypy executes no import hook: it must find vksroom through a plain path entry and read
    # our sources (the wrong type below is only an error if it knows what __version__ is).
    (tmp_path / "probe.py").write_text("from vksroom import __version__\n"
                                       "from vksroom.drivers.errors import DeviceError\n"
                                       "n: int = __version__\n")
    typed = subprocess.run([sys.executable, "-m", "mypy", "--python-executable", str(bin_dir / "python"),
                            "--cache-dir", str(tmp_path / "mypy-cache"), "probe.py"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert 'probe.py:3: error: Incompatible types in assignment (expression has type "str", variable has type ' \
           '"int")' in typed.stdout, typed.stdout
    assert "Found 1 error" in typed.stdout, typed.stdout
