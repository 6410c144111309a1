"""Helpers for the ONVIF tests."""
import threading
import time

from vksroom.drivers.errors import DeviceNotReady


def when_ready(fn, timeout: float = 5.0, pause_s: float = 0.05):
    """Call ``fn`` until the camera stops answering 'not ready'; ``(value, refusals)``.
    Fails the test (AssertionError) if it is still not ready after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    refusals = 0
    pause = threading.Event()
    while True:
        try:
            return fn(), refusals
        except DeviceNotReady:
            refusals += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"still not ready after {timeout} s ({refusals} refusals)") from None
        pause.wait(pause_s)
