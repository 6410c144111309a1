"""GPIO the room relies on: with configured pins and no working pin factory (no lgpio on a Pi,
or not a Pi) relay first aid, the light and the button are off, and the room says so."""
import pytest

from support.lifehelp import Room, clock, mock_factory  # noqa: F401  (fixtures)


def gpio_check(room):
    d = room.controller.readiness().device("system")
    return next((c for c in d.checks if c.check == "gpio"), None) if d else None


@pytest.fixture
def no_pin_factory(monkeypatch):
    """gpiozero as on a board it cannot drive: its own lookup of a default factory fails."""
    from gpiozero import Device

    monkeypatch.setenv("GPIOZERO_PIN_FACTORY", "none-installed")
    monkeypatch.setattr(Device, "pin_factory", None)


def test_configured_gpio_without_a_pin_factory_is_a_fault_in_readiness(tmp_path, clock, no_pin_factory):
    room = Room(tmp_path, clock, None)
    try:
        r = room.controller.wait_for(lambda r: r.device("system") is not None, 5)
        assert r is not None and r.device("system").health.value == "fault"
        check = gpio_check(room)
        assert not check.ok and check.code == "system.gpio_unavailable" and "BadPinFactory" in check.detail
        assert any("Выводы управления недоступны" in line for line in r.reason_lines("ru"))
        assert room.controller.wait_for(lambda r: r.verdict.value == "not_ready", 5) is not None
        assert not room.life.gpio.has_relay("cam1")     # first aid by relay is off: that is why it is a fault
    finally:
        room.stop()


def test_configured_gpio_with_a_pin_factory_passes(tmp_path, clock, mock_factory):
    room = Room(tmp_path, clock, mock_factory)
    try:
        room.wait(lambda: gpio_check(room) is not None)
        assert gpio_check(room).ok and room.life.gpio.has_relay("cam1")
        room.wait_state("ready")
    finally:
        room.stop()
