"""Small helpers for the VISCA tests."""
import threading
import time

from vksroom.drivers.errors import DeviceError


def until(fn, timeout: float = 5.0, errors=(DeviceError,), step: float = 0.02):
    """Call ``fn`` until it returns a true value without raising ``errors``; return that
    value. Fails the test (AssertionError) after ``timeout`` seconds, saying the last error."""
    deadline = time.monotonic() + timeout
    last = None
    pause = threading.Event()
    while True:
        try:
            value = fn()
            if value:
                return value
        except errors as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout} s; last error: {last}")
        pause.wait(step)
