"""The panel under test, as Flask's tutorial has it: ``app`` (``create_app`` over a room),
``client`` (``app.test_client()``), ``runner`` (``app.test_cli_runner()``).

The room is a started stand-in room, ready (``room``; its devices: ``devices``). A module whose
panel serves another room overrides ``room``; one that needs users or other settings overrides
``panel_config``; a test that needs another variant parametrises those fixtures indirectly.
"""
import pytest

from vksroom.controller.model import RoomState
from vksroom.web import create_app

from support.panelclient import PanelClient


@pytest.fixture
def stand_in(make_room):
    room, devices = make_room()
    assert room.wait_for(lambda r: r.state is RoomState.READY, 3)
    return room, devices


@pytest.fixture
def room(stand_in):
    """What the panel serves (its ``CONTROLLER``)."""
    return stand_in[0]


@pytest.fixture
def devices(stand_in):
    """The stand-in room's devices by id (:class:`support.roomkit.FlagDevice`)."""
    return stand_in[1]


class PanelClock:
    """Monotonic seconds the test moves by hand (``now``): the panel's idle timeout and login delays."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def panel_clock():
    """Pass as ``PANEL_CLOCK`` in ``panel_config``."""
    return PanelClock()


@pytest.fixture
def panel_config():
    """Flask settings over ``TESTING`` (e.g. ``USERS``)."""
    return {}


@pytest.fixture
def app(room, panel_config):
    app = create_app(room, {"TESTING": True, **panel_config})
    app.test_client_class = PanelClient   # a browser: its posts carry the page's CSRF token
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
