"""Controller-side device adapters: one per configured device.

An adapter owns one driver and knows the checks that say whether its device is fit for a
hearing. It knows nothing of the panel or MQTT. The room's coordinator (see
:mod:`vksroom.controller.coordinator`) calls it from one thread at a time:

* ``connect()`` opens the transport and (re)initialises the device (login, AddressSet,
  IF_Clear...). Called at start and after every loss; must be safe to call again.
* ``poll()`` is a light inquiry run every ``selftest.poll_interval_s`` while idle; it
  returns measured values (``{"power": "on"}``) or raises :class:`DeviceError`.
  Availability derives from this one fact: the last poll succeeded.
* ``checks(ctx)`` is the device's part of the self-test: a list of
  :class:`~vksroom.controller.model.CheckResult`. A failed check is a result, not an
  exception; an exception means the device could not be checked at all.
* ``close()`` releases the transport.

Each adapter is one kind's, registered by config ``type`` in
:data:`vksroom.controller.devices.kinds.KINDS`.
"""
from __future__ import annotations

import dataclasses
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from vksroom.controller.model import CheckResult
from vksroom.controller.texts import default_label

if TYPE_CHECKING:     # the config reads the kinds (devices.kinds) at load: no import back
    from vksroom.controller.config import DeviceConfig


@dataclass
class CheckContext:
    """What a device's self-test may use: its deadline, a cancel flag, the room's data."""

    deadline: float
    data_dir: Path
    trigger: str = "manual"             # manual | schedule | button | mqtt | test-session
    cancelled: threading.Event = field(default_factory=threading.Event)
    extras: dict = field(default_factory=dict)

    def remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


class DeviceAdapter(ABC):
    kind = "device"
    # While the room is idle (no hearing, no self-test) its coordinator polls this many times
    # less often; ``busy`` says which pace holds now (set by the coordinator before a poll).
    idle_poll_factor = 1.0

    def __init__(self, cfg: DeviceConfig, data_dir: Path | None = None):
        self.cfg = cfg
        self.data_dir = Path(data_dir) if data_dir else None
        self.busy = False

    @property
    def id(self) -> str:
        return self.cfg.id

    _mark: float | None = None   # during run_checks: when the previous check ended

    @property
    def label(self) -> str | dict:
        """The device's name for people (a string or a {kk, ru, en} table; never its id)."""
        return self.cfg.label or default_label(self.kind)

    def result(self, check: str, ok: bool, reason: str = "", value=None, code: str = "", detail: str = "",
               **params) -> CheckResult:
        """A check result said by ``code`` (see controller/texts.py) with ``params``; the device's
        label is the parameter ``device``. Technical text (a driver's error) goes in ``detail``.
        During run_checks each result is timed since the previous one ended: its own check."""
        took = 0.0
        if self._mark is not None:
            now = time.monotonic()
            took, self._mark = now - self._mark, now
        return CheckResult(self.cfg.id, check, ok, reason, value, code or f"{self.kind}.{check}",
                           {"device": self.label, **params}, duration_s=took, detail=detail)

    def run_checks(self, ctx: CheckContext) -> list[CheckResult]:
        """The self-test's part of this device, each result timed around its own check."""
        self._mark = time.monotonic()
        try:
            return self.checks(ctx)
        finally:
            self._mark = None

    def factory(self):
        """The driver factory this adapter's kind is registered with (:mod:`.kinds`)."""
        from vksroom.controller.devices.kinds import KINDS

        return KINDS[self.kind].factory()

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def poll(self) -> dict: ...

    @abstractmethod
    def checks(self, ctx: CheckContext) -> list[CheckResult]: ...

    def live_checks(self, values: dict) -> list[CheckResult]:
        """What the poll's ``values`` say of the device's health, as checks marked ``live``
        (camera in standby, codec diagnostics Error, a muted microphone...). Pure: no I/O.
        The room keeps them between self-tests, so a fault the poll can see is seen, and
        cleared, within a poll or two."""
        return []

    def clears(self, live: CheckResult, found: CheckResult) -> bool:
        """Whether a newer passing ``live`` check answers a self-test's failed ``found`` one
        (by default: the same check)."""
        return live.check == found.check

    _poke: Callable[[], None] | None = None

    def bind_poke(self, poke: Callable[[], None]) -> None:
        """Given by the coordinator: :meth:`poke` then has the device polled now."""
        self._poke = poke

    def poke(self) -> None:
        """The device told of a change by itself (a pushed mute): poll now, not at the next interval."""
        if self._poke is not None:
            self._poke()

    def live(self, check: str, ok: bool, code: str = "", **params) -> CheckResult:
        return dataclasses.replace(self.result(check, ok, code=code, **params), live=True)

    def close(self) -> None:
        pass


def adapter_for(cfg: DeviceConfig, data_dir: Path | None = None) -> DeviceAdapter:
    from vksroom.controller.devices.kinds import KINDS

    return KINDS[cfg.type].adapter_class()(cfg, data_dir)
