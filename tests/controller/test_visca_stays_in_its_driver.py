"""VISCA is one camera protocol among others: only its own driver, the bench simulators and
the one registration of its URL schemes may import it. The room, the panel and MQTT use
:class:`vksroom.drivers.camera.PtzCamera` in neutral units, so adding a protocol touches none
of them. Read from the sources (ast), imports and ``"module:name"`` strings alike."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]        # the repository root is the package `vksroom`
VISCA = "vksroom.drivers.visca"
ALLOWED = {
    "drivers/camera.py": "PTZ_SCHEMES, the one registration of the protocols' URL schemes",
    "cli.py": "the list of `vks-room` commands names `vks-room visca`, the driver's own tool",
}
ALLOWED_DIRS = ("drivers/visca/", "hil/")
NOT_THE_PACKAGE = {"tests", "benchmarks", "build", "dist"}   # test and bench code, not what is installed


def _module_of(rel: str) -> str:
    parts = rel[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["vksroom", *parts])


def _names(tree: ast.AST, module: str, is_package: bool):
    """Every module this source imports or names as ``"module[:attribute]"`` text."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:           # relative: resolved against this module's package
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.split(":", 1)[0]
            if text.startswith("vksroom.") and " " not in text:
                yield text


def offenders(sources: dict[str, str]) -> list[str]:
    """``path: module`` for each source outside the allowed places that reaches VISCA."""
    out = []
    for rel, text in sorted(sources.items()):
        if rel in ALLOWED or rel.startswith(ALLOWED_DIRS):
            continue
        tree = ast.parse(text, rel)
        for name in _names(tree, _module_of(rel), rel.endswith("__init__.py")):
            if name == VISCA or name.startswith(VISCA + "."):
                out.append(f"{rel}: {name}")
    return out


def package_sources() -> dict[str, str]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).as_posix()
        first = rel.split("/", 1)[0]
        if first in NOT_THE_PACKAGE or first.startswith(".") or first.endswith(".egg-info"):
            continue
        out[rel] = path.read_text(encoding="utf-8")
    return out


def test_nothing_outside_the_visca_driver_imports_it():
    sources = package_sources()
    assert "controller/devices/camera.py" in sources and "web/camera.py" in sources   # it read the package
    assert offenders(sources) == []


def test_the_check_sees_every_way_of_reaching_visca():
    """The rule catches what the camera adapter and the panel did before neutral units."""
    caught = offenders({
        "controller/devices/camera.py": "from vksroom.drivers.visca import check_settings, open_camera",
        "web/camera.py": "from vksroom.drivers.visca.messages import PAN_SPEED_MAX",
        "controller/config.py": "def f():\n    import vksroom.drivers.visca.camera as c\n",
        "drivers/codec/cisco.py": "from ..visca import messages",
        "controller/devices/kinds.py": 'DRIVER = "vksroom.drivers.visca:open_ptz"',
        "drivers/visca/ptz.py": "from vksroom.drivers.visca import messages",      # its own: fine
        "hil/demo.py": "from vksroom.drivers.visca import open_camera",              # the bench: fine
        "controller/video.py": 'TEXT = "the vksroom.drivers.visca driver: see docs"',  # prose, not a module
    })
    assert sorted({c.split(":")[0] for c in caught}) == ["controller/config.py", "controller/devices/camera.py",
                                                 "controller/devices/kinds.py", "drivers/codec/cisco.py",
                                                 "web/camera.py"], caught
