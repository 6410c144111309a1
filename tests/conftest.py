"""Shared fixtures. Every network fixture binds 127.0.0.1 only and stops by itself.

Helpers live in the package ``support`` (tests/support, on the path through pyproject's
``pythonpath``): ``from support.roomkit import FlagDevice``. Test files are imported by path
(``--import-mode=importlib``), so no test folder is a package and none shadows a library.
The panel's ``app`` / ``client`` / ``runner`` are in tests/web/conftest.py.
"""
import pytest

from support.roomkit import FlagDevice, stand_in_config

pytest_plugins = ["support.codec_sims"]     # cisco_sim, poly_sim, audio_sim, make_adapter


@pytest.fixture
def closing():
    """``closing(thing)``: ``thing``, closed after the test (``.close()``, else ``.stop()``;
    last made, first closed)."""
    items = []

    def add(item):
        items.append(item)
        return item
    yield add
    for item in reversed(items):
        (getattr(item, "close", None) or item.stop)()


@pytest.fixture
def make_room(tmp_path):
    """Build a started Controller over stand-in devices; stopped after the test."""
    from vksroom.controller.assemble import build_room

    rooms = []

    def make(check_timeout=5.0, **kw):
        cfg = stand_in_config(tmp_path, check_timeout)
        adapters = {d: FlagDevice(cfg.devices[d], **kw.get(d, {})) for d in cfg.devices}
        room = build_room(cfg, adapters).start()
        rooms.append(room)
        return room, adapters

    yield make
    for r in rooms:
        r.stop()
