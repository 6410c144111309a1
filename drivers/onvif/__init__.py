"""ONVIF Profile S PTZ cameras: SOAP 1.2 over HTTP(S) with the standard library.

Layers, each usable alone: :mod:`.soap` (envelopes, the WS-Security UsernameToken, reading
replies and faults; no I/O), :mod:`.link` (one HTTP connection, failures as driver errors),
:mod:`.camera` (the :class:`~vksroom.drivers.camera.PtzCamera`)::

    from vksroom.drivers.camera import open_ptz
    cam = open_ptz("onvif://10.0.0.31/onvif/device_service", username="vks", password="...")
    cam.recall(1)
    print(cam.position(), cam.video_url())
"""
from vksroom.drivers.onvif.camera import OnvifCamera, check_settings, open_ptz, parse_url

__all__ = ["OnvifCamera", "check_settings", "open_ptz", "parse_url"]
