"""Videoconference codecs behind one interface, chosen by model name.

>>> codec = open_codec("cisco", "serial:///dev/serial/by-id/usb-FTDI...?baud=115200",
...                    username="admin", password="")
>>> codec.status()["call"]          # idle | dialling | ringing | connecting | connected
>>> codec.test_call("1001", connect_timeout=30, hold_s=5)
>>> codec.close()
"""
from __future__ import annotations

from vksroom.drivers.codec.base import Call, Codec, TestCallResult
from vksroom.drivers.errors import ConfigError
from vksroom.drivers.line import build_driver, open_or_close

MODELS = {
    "cisco": ("vksroom.drivers.codec.cisco:CiscoCodec", 115200),
    "poly": ("vksroom.drivers.codec.poly:PolyCodec", 9600),
}

__all__ = ["open_codec", "make_codec", "Codec", "Call", "TestCallResult", "MODELS"]


def make_codec(model: str, url: str, **settings) -> Codec:
    """Build the driver for ``model`` on the transport named by ``url`` without opening it."""
    if model not in MODELS:
        raise ConfigError(f"unknown codec model {model!r} (known: {', '.join(MODELS)})")
    target, default_baud = MODELS[model]
    return build_driver(target, url, settings, default_baud)


def open_codec(model: str, url: str, open_timeout: float = 8.0, **settings) -> Codec:
    """Open the codec at ``url`` (a serial path, ``serial://...?baud=`` or ``tcp://``),
    log in and register feedback. Raises the reason when it is not ready in
    ``open_timeout`` (the driver is closed again then); ``timeout`` (in ``settings``)
    bounds each request."""
    return open_or_close(make_codec(model, url, **settings), open_timeout)
