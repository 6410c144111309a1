"""VISCA PTZ cameras: Sony VISCA over IP, raw VISCA over TCP/UDP, RS-232/422 daisy chains.

Layers, each usable alone: :mod:`.messages` (encode/decode, pure), :mod:`.framing`
(IP header, ``FF`` splitting), :mod:`.engine` (transactions: ACK, Completion, resends),
:mod:`.links` (IP, raw, serial bus), :mod:`.camera` (the API)::

    from vksroom.drivers.visca import open_camera
    cam = open_camera("visca-ip://10.0.0.21", ack_timeout=0.2)
    cam.recall(1)
    print(cam.position())
"""
from vksroom.drivers.visca.camera import Camera, check_settings, open_camera, parse_url
from vksroom.drivers.visca.engine import Settings

__all__ = ["Camera", "check_settings", "open_camera", "parse_url", "Settings"]
