"""Dependencies point one way (docs/ARCHITECTURE.md, "Layers"): every module of the package
is read with ``ast`` and each of its imports (at the top, inside functions, relative ones,
and modules named by a string for ``importlib``) is checked against its layer's rule."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("drivers", "controller", "web", "mqtt", "hil")
TOP = ("app", "cli", "__main__")
MODULE_NAME = re.compile(r"vksroom(\.\w+)+")

# What each layer must not import (its own name, or a module at the top).
FORBIDDEN = {
    "drivers": ("controller", "web", "mqtt", "hil", *TOP),
    "controller": ("web", "mqtt", "hil", *TOP),
    "web": ("mqtt", "hil", *TOP),
    "mqtt": ("web", "hil", *TOP),
    # the simulators are bench equipment: they speak the wire protocols on their own
    "hil": ("drivers", "controller", "web", "mqtt", *TOP),
}
# Bench tools in hil/ that sit on the controller's side, and exactly how far:
EXCEPTIONS = {
    # the runner builds each device's adapter as the controller does and runs its checks
    # (controller.devices, controller.config, drivers.errors): that is its point.
    "vksroom.hil.runner": ("controller", "drivers"),
    # the demo bench writes a room TOML and, as a context manager, loads it for the caller
    # (controller.config.load in __enter__); nothing else of the controller.
    "vksroom.hil.demo": ("controller.config",),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["vksroom", *parts])


def package_modules() -> list[Path]:
    files = [p for p in ROOT.glob("*.py") if p.name != "setup.py"]
    for layer in LAYERS:
        files += (ROOT / layer).rglob("*.py")
    return sorted(files)


def imports(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every vksroom module ``path`` imports, wherever in the file."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            # "from . import x" and "from vksroom import web" import the names as modules
            found += [(node.lineno, f"{module}.{a.name}") for a in node.names] if module in (package, "vksroom") \
                or not node.module else [(node.lineno, module)]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_NAME.fullmatch(node.value):
            found.append((node.lineno, node.value))     # importlib.import_module("vksroom.x")
    return [(line, m) for line, m in found if m == "vksroom" or m.startswith("vksroom.")]


def layer_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def within(module: str, prefix: str) -> bool:
    name = module.removeprefix("vksroom.")
    return name == prefix or name.startswith(prefix + ".")


def upward_imports() -> list[str]:
    wrong = []
    for path in package_modules():
        me = module_name(path)
        forbidden = FORBIDDEN.get(layer_of(me), ())
        allowed = EXCEPTIONS.get(me, ())
        for line, target in imports(path):
            if any(within(target, f) for f in forbidden) and not any(within(target, a) for a in allowed):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    return wrong


def test_no_layer_imports_upward():
    wrong = upward_imports()
    assert not wrong, "upward imports:\n" + "\n".join(wrong)


def test_the_reader_sees_every_kind_of_import():
    """The rule above can fail: the reader finds function-level, relative and by-name imports."""
    assert len(package_modules()) > 80
    runner = dict((m, line) for line, m in imports(ROOT / "hil" / "runner.py"))
    assert "vksroom.controller.devices" in runner          # inside run_device()
    assert "vksroom.mqtt.contract" in {m for _, m in imports(ROOT / "mqtt" / "link.py")}     # from . import contract
    assert "vksroom.web.video" in {m for _, m in imports(ROOT / "web" / "__init__.py")}      # BLUEPRINTS
    assert "vksroom.drivers.video.mjpeg" in {m for _, m in imports(ROOT / "drivers" / "video" / "capture.py")}
