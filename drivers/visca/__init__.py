"""VISCA PTZ cameras: Sony VISCA over IP, raw VISCA over TCP/UDP, RS-232/422 daisy chains.

Layers, each usable alone: :mod:`.messages` (encode/decode, pure), :mod:`.framing`
(IP header, ``FF`` splitting), :mod:`.engine` (transactions: ACK, Completion, resends),
:mod:`.links` (IP, raw, serial bus), :mod:`.camera` (the API in VISCA's units), and
:mod:`.ptz` (the same camera as a :class:`~vksroom.drivers.camera.PtzCamera` in neutral
units: what the room and the panel use, through :func:`vksroom.drivers.camera.open_ptz`)::

    from vksroom.drivers.visca import open_camera
    cam = open_camera("visca-ip://10.0.0.21", ack_timeout=0.2)
    cam.recall(1)
    print(cam.position())
"""
from vksroom.drivers.visca.camera import Camera, open_camera, parse_url
from vksroom.drivers.visca.engine import Settings
from vksroom.drivers.visca.ptz import ViscaPtz, check_settings, open_ptz

__all__ = ["Camera", "check_settings", "open_camera", "open_ptz", "parse_url", "Settings", "ViscaPtz"]
