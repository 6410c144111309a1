"""What pyproject.toml cannot say: the repository root *is* the import package ``vksroom``.

``controller/`` installs as ``vksroom.controller``, ``drivers/`` as ``vksroom.drivers`` and
so on, so no generic top-level names (``web``, ``mqtt``...) leak into site-packages. The
metadata (name, dependencies, scripts, package data) is in pyproject.toml.
"""
import os
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

LAYERS = ["controller", "drivers", "web", "mqtt", "hil"]
# `pip install -e .` puts this directory on sys.path; it holds one symlink, vksroom -> root.
EDITABLE_DIR = ".editable"


def _packages():
    found = ["vksroom"]
    for layer in LAYERS:
        for dirpath, dirnames, filenames in os.walk(layer):
            dirnames[:] = [d for d in dirnames if not d.startswith((".", "__"))]
            if "__init__.py" in filenames:
                found.append("vksroom." + dirpath.replace(os.sep, "."))
    return sorted(found)


class BuildPy(build_py):
    """The root is the package, but this build script is not part of it."""

    def find_package_modules(self, package, package_dir):
        modules = super().find_package_modules(package, package_dir)
        return [m for m in modules if not (package == "vksroom" and m[1] == "setup")]


class _PackageLink:
    """An editable install as a plain path entry: ``<root>/.editable/vksroom -> <root>``.

    setuptools' default for a root mapped to another name is an import hook (a finder run
    from a .pth ``import`` line), which mypy and pyright never execute, so they cannot see
    ``vksroom.*``. Its ``compat`` mode would put the root itself on sys.path (``controller``,
    ``web``... as top-level names, and still no ``vksroom``); ``strict`` links file by file,
    so a module added later is missing until the next install. A symlink to the directory
    has neither fault, and a static .pth line is what type checkers read.
    """

    def __init__(self, name, project_dir):
        self.name = name
        self.entry = Path(project_dir).resolve() / EDITABLE_DIR

    def __enter__(self):
        self.entry.mkdir(exist_ok=True)
        link = self.entry / "vksroom"
        if not link.is_symlink():
            link.symlink_to(os.pardir, target_is_directory=True)   # relative: .editable/.. is the root
        return self

    def __call__(self, wheel, files, mapping):
        wheel.writestr(f"__editable__.{self.name}.pth", f"{self.entry}\n")

    def __exit__(self, *exc):
        return None


class EditableWheel(editable_wheel):
    """`pip install -e .` by `_PackageLink`, unless a mode is asked for explicitly
    (``--config-settings editable_mode=strict``): then setuptools' own."""

    def _select_strategy(self, name, tag, build_lib):   # setuptools' hook (>=64), private
        if self.mode:
            return super()._select_strategy(name, tag, build_lib)
        return _PackageLink(name, self.project_dir)


setup(
    cmdclass={"build_py": BuildPy, "editable_wheel": EditableWheel},
    package_dir={"vksroom": "."},
    packages=_packages(),
)
