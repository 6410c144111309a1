"""Shared fixtures. Every network fixture binds 127.0.0.1 only and stops by itself.

Helpers live in uniquely named modules (``roomkit``, ``e2ekit``), never imported from a
conftest: several conftest modules would clash by name.
"""
import pytest

from roomkit import FlagDevice, stand_in_config


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
