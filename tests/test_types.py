"""drivers/ and controller/ type-check clean (mypy, configured in pyproject.toml [tool.mypy]).

A wrong type in either layer fails the suite, and so CI, with mypy's own lines as the message."""
import subprocess
import sys
from pathlib import Path

import pytest

import vksroom

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("drivers", "controller")


@pytest.mark.timeout(300)
def test_drivers_and_controller_have_no_type_errors():
    assert Path(vksroom.__file__).resolve() == ROOT / "__init__.py", (
        f"vksroom is imported from {vksroom.__file__}, not this checkout: mypy would check that copy; "
        "install the checkout with `pip install -e .`")
    done = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=290)
    assert done.returncode == 0, (done.stdout + done.stderr + "\n(an editable install made by an older setup.py "
                                  "is invisible to mypy: reinstall with `pip install -e .`)")
    sources = sum(1 for layer in CHECKED for _ in (ROOT / layer).rglob("*.py"))
    assert f"Success: no issues found in {sources} source files" in done.stdout, done.stdout
