"""DSPs and microphone systems behind one audio interface, chosen by model name.

>>> dsp = open_audio("tesira", "/dev/serial/by-id/usb-FTDI...", channels=[1, 2, 3])
>>> dsp.get_mute(1), dsp.set_mute(2, False), dsp.get_level(3)
>>> dsp.start_meters(); dsp.levels()            # {1: -42.0, 2: -18.5, 3: None}
>>> mic = open_audio("shure", "tcp://127.0.0.1:2202", channels=[1, 2])
"""
from __future__ import annotations

from vksroom.drivers.audio.base import AudioDevice, Measurement
from vksroom.drivers.errors import ConfigError
from vksroom.drivers.line import build_driver, open_or_close

MODELS = {
    "tesira": ("vksroom.drivers.audio.tesira:TesiraDsp", 115200, None),
    "shure": ("vksroom.drivers.audio.shure:ShureMic", None, 2202),
}

__all__ = ["open_audio", "make_audio", "AudioDevice", "Measurement", "MODELS"]


def make_audio(model: str, url: str, **settings) -> AudioDevice:
    """Build the driver for ``model`` on the transport named by ``url`` without opening it."""
    if model not in MODELS:
        raise ConfigError(f"unknown audio model {model!r} (known: {', '.join(MODELS)})")
    target, default_baud, default_port = MODELS[model]
    return build_driver(target, url, settings, default_baud, default_port)


def open_audio(model: str, url: str, open_timeout: float = 8.0, **settings) -> AudioDevice:
    """Open the device at ``url`` and read its channels' mutes. Raises the reason when it
    is not ready within ``open_timeout`` (the driver is closed again then); ``timeout``
    (in ``settings``) bounds each request."""
    return open_or_close(make_audio(model, url, **settings), open_timeout)
