"""vksroom: the courtroom VKS room controller.

Layers (dependencies point one way, left to right never right to left):
``drivers`` (device protocols and transports) <- ``controller`` (room state, checks,
self-test, schedule) <- ``web`` and ``mqtt`` (adapters, side by side) <- ``app`` (the
one entry module that wires them). ``hil`` holds device simulators; it imports none
of the layers above.
"""

__version__ = "0.1.0"
