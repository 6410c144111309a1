"""Videoconference codecs behind one interface, chosen by model name.

>>> codec = open_codec("cisco", "serial:///dev/serial/by-id/usb-FTDI...?baud=115200",
...                    username="admin", password="")
>>> codec.status()["call"]          # idle | dialling | ringing | connecting | connected
>>> codec.test_call("1001", connect_timeout=30, hold_s=5)
>>> codec.close()
"""
from __future__ import annotations

import importlib

from vksroom.drivers.codec.base import Call, Codec, TestCallResult
from vksroom.drivers.errors import ConfigError
from vksroom.drivers.transport import transport_for_url

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
    baud = settings.pop("baud", settings.pop("baudrate", default_baud))
    transport = transport_for_url(url, baudrate=baud) if not url.startswith("tcp:") else transport_for_url(url)
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(transport, **settings)


def open_codec(model: str, url: str, timeout: float = 8.0, **settings) -> Codec:
    """Open the codec at ``url`` (a serial path, ``serial://...?baud=`` or ``tcp://``),
    log in and register feedback. Raises the reason when it is not ready in ``timeout``
    (the driver is closed again then)."""
    codec = make_codec(model, url, **settings)
    try:
        codec.open(timeout)
    except Exception:
        codec.close()
        raise
    return codec
