"""Stand-in devices for tests of room logic (imported by tests as ``roomkit``)."""
import threading

from vksroom.controller.config import parse
from vksroom.controller.devices import DeviceAdapter
from vksroom.drivers.errors import DeviceTimeout


class FlagDevice(DeviceAdapter):
    """A stand-in device for tests of room logic: answers while ``up`` is set; its poll reads
    ``power`` (a camera's "standby" is a live fault); ``finding`` makes its self-test fail a
    check the poll cannot see (a preset off its place). ``meet`` (a Barrier) holds its self-test
    until the other devices sharing it are inside theirs: they pass it only running at once."""

    kind = "test"

    def __init__(self, cfg, data_dir=None, meet=None, hang=None):
        super().__init__(cfg, data_dir)
        self.up = threading.Event()
        self.up.set()
        self.meet = meet
        self.hang = hang
        self.checking = False        # inside its self-test now
        self.power = "on"
        self.extra: dict = {}        # more values its poll reads (a level...)
        self.finding = None          # a failing self-test check's name, or None
        self.polls = 0               # polls answered
        self.attempts = 0            # connections tried, answered or not
        self.polled = threading.Condition()

    def connect(self):
        with self.polled:
            self.attempts += 1
            self.polled.notify_all()
        if not self.up.is_set():
            raise DeviceTimeout(f"{self.id} gave no answer within 0.2 s")

    def poll(self):
        self.connect()
        with self.polled:
            self.polls += 1
            self.polled.notify_all()
        return {"power": self.power, **self.extra}

    def live_checks(self, values):
        ok = values.get("power") == "on"
        return [self.live("power", ok, "camera.power" if ok else "camera.standby")]

    def wait_polls(self, n, timeout=10.0, counter="polls"):
        """Wait until ``n`` more polls (``counter="attempts"``: connections tried) have been made."""
        with self.polled:
            goal = getattr(self, counter) + n
            assert self.polled.wait_for(lambda: getattr(self, counter) >= goal, timeout), \
                f"{self.id}: {getattr(self, counter)} {counter}"

    def checks(self, ctx):
        self.checking = True
        try:
            if self.hang is not None:
                self.hang.wait(10)
            if self.meet is not None:
                self.meet.wait()
            results = [self.result("power", self.power == "on", "", self.power)]
            if self.finding:
                results.append(self.result(self.finding, False, code="camera.preset_off"))
            return results
        finally:
            self.checking = False




def stand_in_config(tmp_path, check_timeout=5.0, **extra):
    return parse({
        "room": {"court_id": "ast-01", "courtroom": "12", "data_dir": str(tmp_path)},
        "devices": {
            "cam1": {"type": "camera", "url": "visca-ip://127.0.0.1", "label": "Judge camera"},
            "codec": {"type": "codec", "model": "cisco", "url": "/dev/null"},
            "cam2": {"type": "camera", "url": "visca-ip://127.0.0.2", "required": False},
        },
        "selftest": {"poll_interval_s": 0.1, "check_timeout_s": check_timeout},
        **extra,
    })
