"""The room's GPIO through gpiozero: status light, buzzer, "run self-test" button, power relays.

Pins come from ``[gpio]`` in the room config (BCM numbers). The status light is either one
RGB LED (common cathode, one pin per colour) or three separate LEDs on the same pins:

=========  =====================  ==========================================
status     colour                 meaning
=========  =====================  ==========================================
ready      green                  measured ready, nothing pending
warning    yellow (red + green)   a warning (no test session, first aid under way, degraded)
fault      red                    a declared fault (the buzzer sounds until someone takes it)
suspended  blue                   VKS suspended by the centre (rule item 24)
off        dark                   nothing known yet
=========  =====================  ==========================================

Relays are wired through their normally-closed contact: a de-energised relay (pin low)
keeps the device powered, so a controller that reboots or crashes never cuts power;
driving the pin high cuts it for a power-cycle.

Tests use gpiozero's ``MockFactory`` (``Device.pin_factory = MockFactory()``) and read the
pins' states.
"""
from __future__ import annotations

import logging
from typing import Callable

from vksroom.controller.config import GpioConfig

log = logging.getLogger(__name__)

STATUSES = {
    "ready": (False, True, False),
    "warning": (True, True, False),
    "fault": (True, False, False),
    "suspended": (False, False, True),
    "off": (False, False, False),
}


class RoomGpio:
    def __init__(self, cfg: GpioConfig, pin_factory=None):
        from gpiozero import LED, Button, Buzzer, OutputDevice

        self.cfg = cfg
        kw = {"pin_factory": pin_factory} if pin_factory is not None else {}
        self._leds = [LED(p, **kw) if p is not None else None
                      for p in (cfg.status_red, cfg.status_green, cfg.status_blue)]
        self._buzzer = Buzzer(cfg.buzzer, **kw) if cfg.buzzer is not None else None
        self._button = Button(cfg.button, bounce_time=None, **kw) if cfg.button is not None else None
        self._relays = {dev: OutputDevice(pin, initial_value=False, **kw) for dev, pin in cfg.relays.items()}
        self.status = "off"
        self.buzzing = False
        self.error = ""

    def show(self, status: str) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r} (known: {', '.join(STATUSES)})")
        for led, lit in zip(self._leds, STATUSES[status]):
            if led is not None:
                led.value = lit
        self.status = status

    def buzz(self, on: bool) -> None:
        if self._buzzer is not None:
            self._buzzer.value = bool(on)
        self.buzzing = bool(on)

    def on_button(self, fn: Callable[[], None]) -> None:
        if self._button is not None:
            self._button.when_pressed = fn

    def has_relay(self, device_id: str) -> bool:
        return device_id in self._relays

    def power(self, device_id: str, on: bool) -> None:
        """Power a device on (relay released) or off (relay energised)."""
        relay = self._relays.get(device_id)
        if relay is None:
            raise KeyError(f"no relay configured for {device_id!r}")
        relay.value = not on

    def close(self) -> None:
        for dev in [*self._leds, self._buzzer, self._button, *self._relays.values()]:
            if dev is not None:
                try:
                    dev.close()
                except Exception:
                    log.debug("closing %r failed", dev, exc_info=True)


class NoGpio:
    """Stands in when no pins are configured or the board has no GPIO: does nothing. ``error``
    says why pins that are configured do not work ("" when none are configured)."""

    status = "off"
    buzzing = False

    def __init__(self, error: str = ""):
        self.error = error

    def show(self, status: str) -> None:
        self.status = status

    def buzz(self, on: bool) -> None:
        self.buzzing = bool(on)

    def on_button(self, fn) -> None:
        pass

    def has_relay(self, device_id: str) -> bool:
        return False

    def power(self, device_id: str, on: bool) -> None:
        raise KeyError(f"no relay configured for {device_id!r}")

    def close(self) -> None:
        pass


def configured(cfg: GpioConfig) -> bool:
    return cfg.relays != {} or any(getattr(cfg, k) is not None
                                   for k in ("status_red", "status_green", "status_blue", "buzzer", "button"))


def open_gpio(cfg: GpioConfig, pin_factory=None):
    """The room's GPIO, or :class:`NoGpio` when none is configured or usable (then its ``error``
    says why: the room shows it as a fault, since relay first aid is off without it)."""
    if not configured(cfg):
        return NoGpio()
    try:
        return RoomGpio(cfg, pin_factory)
    except Exception as exc:   # gpiozero raises BadPinFactory & co. without lgpio or off a Raspberry Pi
        log.error("GPIO unavailable, running without status light, buzzer, button and relays: %s", exc)
        return NoGpio(f"{type(exc).__name__}: {exc}")
