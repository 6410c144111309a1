"""Every kind of device a room has, declared once: the config ``type`` it answers to.

A kind names, by ``"module:attribute"`` strings loaded only when asked (so the config check
imports no adapter and no simulator it does not need, and ``hil/`` stays free of the
controller):

* its config keys and their types (beside ``type``, ``url``, ``required``, ``label``,
  ``model``), and ``check``: the kind's own rules, living with its adapter;
* its URL schemes (cameras: :data:`vksroom.drivers.camera.PTZ_SCHEMES`, the protocols'
  one table) and its models (codecs, DSPs: their drivers' own ``MODELS`` tables);
* its adapter class and the driver factory the adapter opens its device with;
* its bench: a simulator per protocol or model (in ``hil/``, each made with no arguments,
  then ``start()``, ``url``, ``stop()``) and the options a simulated device is configured
  with. ``tests/controller/test_kinds.py`` runs every kind's adapter against every
  simulator registered here.

A new codec model or camera protocol is its own files (driver, simulator) plus one line in
its driver's table and, for a simulator, one line here.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

LINE_SCHEMES = ("serial", "tcp")


def load(target: str) -> Any:
    """``"package.module:attribute"`` -> the attribute."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class DeviceKind:
    name: str                     # the config `type`
    adapter: str                  # "module:Class", a DeviceAdapter
    driver: str                   # "module:function" the adapter builds its driver with
    keys: dict                    # its own config keys -> type or tuple of types
    schemes: tuple | str          # allowed URL schemes, or "module:TABLE" whose keys they are
    models: tuple | str | None = None   # allowed models ("module:TABLE" likewise); None: free text
    check: str | None = None      # "module:function(table, path) -> [error, ...]": the kind's own rules
    simulators: dict = field(default_factory=dict)   # protocol or model -> "module:Class" in hil/
    bench_options: dict = field(default_factory=dict)  # a simulated device's options

    def url_schemes(self) -> tuple[str, ...]:
        return tuple(load(self.schemes)) if isinstance(self.schemes, str) else self.schemes

    def model_names(self) -> tuple[str, ...] | None:
        return tuple(load(self.models)) if isinstance(self.models, str) else self.models

    def adapter_class(self):
        return load(self.adapter)

    def factory(self):
        return load(self.driver)

    def errors(self, table: dict, path: str) -> list[str]:
        """What the kind's own rules say of a device's validated config table."""
        return load(self.check)(table, path) if self.check else []

    def simulator(self, variant: str):
        """A new (unstarted) simulator of ``variant`` (a protocol or model)."""
        return load(self.simulators[variant])()


KINDS: dict[str, DeviceKind] = {k.name: k for k in (
    DeviceKind(
        "camera", adapter="vksroom.controller.devices.camera:CameraAdapter", driver="vksroom.drivers.camera:open_ptz",
        keys={"presets": dict, "tolerance": (int, float), "video": str, "settings": dict},
        schemes="vksroom.drivers.camera:PTZ_SCHEMES", check="vksroom.controller.devices.camera:check_options",
        simulators={"visca": "vksroom.hil.visca_camera:CameraSimulator",
                    "onvif": "vksroom.hil.onvif_camera:OnvifCameraSimulator"},
        bench_options={"presets": {"wide": 1}}),
    DeviceKind(
        "codec", adapter="vksroom.controller.devices.codec:CodecAdapter", driver="vksroom.drivers.codec:make_codec",
        keys={"far_end": str, "username": str, "password": str, "connect_timeout_s": (int, float),
              "hold_s": (int, float), "baud": int, "far_video": str, "far_audio": str},
        schemes=LINE_SCHEMES, models="vksroom.drivers.codec:MODELS",
        check="vksroom.controller.devices.codec:check_options",
        simulators={"cisco": "vksroom.hil.codec_sim:CiscoCodecSimulator",
                    "poly": "vksroom.hil.codec_sim:PolyCodecSimulator"}),
    DeviceKind(
        "dsp", adapter="vksroom.controller.devices.audio:AudioAdapter", driver="vksroom.drivers.audio:make_audio",
        keys={"channels": dict, "username": str, "password": str, "baud": int, "window_s": (int, float),
              "blocks": dict, "meter_rate_ms": int, "idle_meter_rate_ms": int},
        schemes=LINE_SCHEMES, models="vksroom.drivers.audio:MODELS",
        check="vksroom.controller.devices.audio:check_options",
        simulators={"tesira": "vksroom.hil.audio_sim:TesiraSimulator", "shure": "vksroom.hil.audio_sim:ShureSimulator"},
        bench_options={"channels": {"judge": {"index": 1}}, "window_s": 0.5}),
)}
