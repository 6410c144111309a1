"""The codec in the room: connection, liveness and the self-test (rules items 13 and 15).

Config keys (``[devices.<id>]``, type ``codec``): ``model`` (cisco | poly), ``url``,
``username``, ``password``, ``baud``, and for the test call ``far_end`` (the number of
the far court or detention centre), ``connect_timeout_s`` (default 30) and ``hold_s``
(default 5); for the far side during a hearing ``far_video`` (the codec's far-end output:
a V4L2 capture device or a stream URL) and ``far_audio`` (``<dsp id>.<channel>``, the DSP
input carrying the codec's return audio).
"""
from __future__ import annotations

import time
from pathlib import Path

from vksroom.controller.devices import CheckContext, DeviceAdapter
from vksroom.controller.model import CheckResult
from vksroom.controller.quality import worst
from vksroom.drivers.codec import Codec
from vksroom.drivers.errors import DeviceError, TransportClosed

POLL_TIMEOUT_S = 1.5     # a silent codec is seen lost within 3 s at 1 s polling
# the driver's test-call outcome -> what the room says (controller/texts.py)
TEST_CALL_CODES = {
    "connected": "codec.test_call.connected", "busy": "codec.test_call.busy",
    "no_answer": "codec.test_call.no_answer", "dropped": "codec.test_call.dropped",
    "rejected": "codec.test_call.rejected", "unreachable": "codec.test_call.unreachable",
    "ended": "codec.test_call.ended", "cancelled": "codec.test_call.cancelled",
    "hangup_failed": "codec.test_call.hangup_failed",
}


def check_options(table: dict, path: str) -> list[str]:
    """A codec's own config rules (the config check calls them through its kind)."""
    errors = [f"{path}.{key}: must be > 0 and <= 600, got {table[key]}"
              for key in ("connect_timeout_s", "hold_s") if key in table and not 0 < table[key] <= 600]
    far_audio = table.get("far_audio")
    if far_audio is not None and not all(far_audio.partition(".")[::2]):
        errors.append(f"{path}.far_audio: name the DSP channel carrying the codec's return audio as "
                      f"'<dsp id>.<channel>', got {far_audio!r}")
    return errors


class CodecAdapter(DeviceAdapter):
    kind = "codec"

    def __init__(self, cfg, data_dir=None):
        super().__init__(cfg, data_dir)
        self.codec: Codec | None = None

    def _driver(self) -> Codec:
        if self.codec is None:
            opts = self.cfg.options
            settings = {k: opts[k] for k in ("username", "password", "baud") if k in opts}
            if self.cfg.model == "poly":
                settings.pop("username", None)
            self.codec = self.factory()(self.cfg.model, self.cfg.url, timeout=POLL_TIMEOUT_S, **settings)
        return self.codec

    def connect(self) -> None:
        self._driver().open(timeout=5.0)

    def poll(self) -> dict:
        status = self._driver().refresh()
        out = {"call": status["call"], "diagnostics": status["diagnostics"], "mic_muted": status["mic_muted"]}
        if status["link_noise"]:
            out["degraded"] = status["link_noise"]
        bad = [m for m in status.get("diagnostics_messages", ()) if m.get("level") in ("Error", "Critical")]
        out["diagnostics_errors"] = len(bad)
        return out

    def live_checks(self, values: dict) -> list[CheckResult]:
        out = []
        if values.get("diagnostics") not in (None, "Unknown"):   # Poly reports none over its API
            failing = values["diagnostics"] in ("Error", "Critical")
            out.append(self.live("diagnostics", not failing, "codec.diagnostics_error" if failing
                                 else "codec.diagnostics", count=values.get("diagnostics_errors", 0)))
        noise = values.get("degraded")
        out.append(self.live("link", not noise, "codec.link_noise" if noise else "codec.link"))
        return out

    def close(self) -> None:
        if self.codec is not None:
            self.codec.close()
            self.codec = None

    # --- for the panel ---------------------------------------------------------------

    def status(self) -> dict:
        """What the codec last reported (no I/O: safe to read at any rate)."""
        if self.codec is None:
            return {"model": self.cfg.model, "connected": False, "call": "unknown", "diagnostics": "Unknown"}
        return self.codec.status()

    def test_call(self, number: str | None = None) -> CheckResult:
        """A test call on demand (the panel's button): to ``number`` or the configured far end."""
        number = number or self.cfg.options.get("far_end", "")
        if not number:
            return self.result("test_call", False, code="codec.test_call.no_number")
        opts = self.cfg.options
        budget = float(opts.get("connect_timeout_s", 30)) + float(opts.get("hold_s", 5)) + 4 * POLL_TIMEOUT_S + 1
        return self._test_call(self._driver(), number, CheckContext(time.monotonic() + budget, Path("/tmp")))

    def call_quality(self) -> dict | None:
        """The connected call's figures (the neutral model as a dict); None with no call up."""
        q = self._driver().call_quality()
        return None if q is None else q.to_dict()

    def dial(self, number: str) -> str:
        """Place a call (the hearing's connection); returns the codec's call id."""
        return self._driver().dial(number)

    def call_state(self) -> str:
        """idle | dialling | ringing | connecting | connected | disconnecting, as the
        codec's feedback last said. Raises when the codec is not connected."""
        codec = self._driver()
        if not codec.connected:
            raise TransportClosed(f"codec {self.id} is not connected ({codec.line.last_error or 'reconnecting'})")
        return codec.call_state()

    def hangup(self) -> None:
        """End every call. Safe while a test call holds the device: requests are serialised
        by the line layer, and the test call sees its call end."""
        self._driver().hangup()

    def checks(self, ctx: CheckContext) -> list[CheckResult]:
        codec = self._driver()
        results = []
        try:
            if not codec.connected:
                codec.open(timeout=min(5.0, max(0.5, ctx.remaining())))
            codec.refresh()
        except DeviceError as exc:
            return [self.result("reachable", False, code="codec.unreachable", detail=str(exc))]
        unit = codec.status()
        product = " ".join(x for x in (unit.get("product"), unit.get("software")) if x)
        results.append(self.result("reachable", True, value=codec.call_state(), code="codec.reachable",
                                   detail=product))
        results.append(self.result("logged_in", codec.logged_in,
                                   code="codec.logged_in" if codec.logged_in else "codec.login_failed"))
        results.append(self._diagnostics(codec))
        noise = codec.line.degraded()
        results.append(self.result("link", not noise, code="codec.link_noise" if noise else "codec.link",
                                   detail=noise))
        far_end = self.cfg.options.get("far_end")
        if far_end:
            results.append(self._test_call(codec, far_end, ctx))
        return results

    def _diagnostics(self, codec: Codec) -> CheckResult:
        if self.cfg.model == "poly":
            return self.result("diagnostics", True, value="Unknown", code="codec.diagnostics_unsupported")
        try:
            msgs = codec.refresh_diagnostics()
        except DeviceError as exc:
            return self.result("diagnostics", False, code="codec.diagnostics_unread", detail=str(exc))
        level = codec.diagnostics_level
        bad = [m for m in msgs if m["level"] in ("Error", "Critical")]
        if bad:
            # the codec's own words (English, its vendor's) are for the technician, not a sentence
            text = "; ".join(f"{m['level']}: {m['type']} {m['description']}".strip() for m in bad)
            return self.result("diagnostics", False, value=level,
                               code="codec.diagnostics_error", detail=text, count=len(bad))
        return self.result("diagnostics", True, value=level, code="codec.diagnostics")

    def _test_call(self, codec: Codec, far_end: str, ctx: CheckContext) -> CheckResult:
        opts = self.cfg.options
        connect_timeout = float(opts.get("connect_timeout_s", 30))
        hold = float(opts.get("hold_s", 5))
        budget = ctx.remaining() - 2 * codec.timeout - 1.0
        if budget < 1.0:
            return self.result("test_call", False, code="codec.test_call.no_time", far_end=far_end)
        hold = min(hold, max(0.0, budget - 1.0))             # keep the hold; shorten the wait instead
        connect_timeout = min(connect_timeout, budget - hold)
        t0 = time.monotonic()
        res = codec.test_call(far_end, connect_timeout=connect_timeout, hold_s=hold, cancelled=ctx.cancelled)
        code = TEST_CALL_CODES.get(res.code, "codec.test_call.connected" if res.ok else "codec.test_call.failed")
        return self.result("test_call", res.ok, value=res.time_to_connect_s, code=code, detail=res.reason,
                           far_end=far_end, seconds=res.time_to_connect_s, time_to_connect_s=res.time_to_connect_s,
                           held_s=res.held_s, outcome=res.code, duration_s=round(time.monotonic() - t0, 3),
                           quality=worst([q.to_dict() for q in res.quality]))
