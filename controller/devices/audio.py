"""The room's DSP or microphone system: every bench microphone unmuted and carrying sound.

Config (``[devices.<id>]``, type ``dsp``, model tesira | shure)::

    [devices.dsp.channels.judge]
    index = 1                 # DSP/mic channel number
    expect_unmuted = true     # false: a spare input that must stay muted
    noise_floor_db = -60      # dBFS; "signal" is above this
    clip_db = -1              # dBFS; at or above is clipping
    min_active = 0.1          # share of the window that must show signal
    label = {kk = "Судья", ru = "Судья", en = "Judge"}

plus ``window_s`` (the check window, default 5 s: the technician speaks into each
microphone in turn, or the DSP plays a test tone), ``meter_rate_ms`` (the live meters'
rate, default 100), ``idle_meter_rate_ms`` (the meters' rate while nobody needs them live,
default 2000) and, for Tesira, ``blocks`` (instance tags).

Light while idle: the device pushes its mutes and its meters (at the idle rate), so a poll
mostly reads what is already known and asks the device nothing. It asks (one mute, channels
in turn) when the line has been quiet longer than a meter period and a second (a dead or
unplugged DSP fails that request: lost), every ``VERIFY_S`` anyway (the command path
answers, and a lost push is corrected), and reads every mute after garbage on the line (it
may have been a mute's news). A stream silent while the device answers means the device
rebooted on a link that stayed up: its subscriptions are made again. The meters run fast
only while someone needs them (:meth:`AudioAdapter.want_meters`: the panel's meter page, a
hearing's watch) and for a self-test's measurement.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from vksroom.controller.devices import CheckContext, DeviceAdapter
from vksroom.controller.model import CheckResult
from vksroom.controller.texts import texts
from vksroom.drivers.audio import AudioDevice, Measurement
from vksroom.drivers.errors import ConfigError, DeviceError

log = logging.getLogger(__name__)

POLL_TIMEOUT_S = 1.5
IDLE_METER_RATE_MS = 2000
MAX_IDLE_METER_RATE_MS = 5000     # a slower stream would leave a dead DSP unseen too long
VERIFY_S = 10.0                   # one mute read back at least this often, pushes or not
TESIRA_BLOCKS = ("mute_block", "mute_attribute", "gain_block", "gain_attribute", "meter_block", "meter_attribute")
CHANNEL_KEYS = {"index": int, "expect_unmuted": bool, "noise_floor_db": (int, float), "clip_db": (int, float),
                "min_active": (int, float), "label": (str, dict)}


@dataclass(frozen=True)
class Channel:
    name: str
    index: int
    expect_unmuted: bool = True
    noise_floor_db: float = -60.0
    clip_db: float = -1.0
    min_active: float = 0.1
    label: str | dict = ""


def parse_channels(table: dict, path: str = "channels") -> dict[str, Channel]:
    """Validate the channel table; raises ConfigError naming every problem."""
    allowed = CHANNEL_KEYS
    errors: list[str] = []
    out: dict[str, Channel] = {}
    used: dict[int, str] = {}
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{path}: name at least one channel, e.g. [..channels.judge] index = 1")
    for name, spec in table.items():
        p = f"{path}.{name}"
        if not isinstance(spec, dict):
            errors.append(f"{p}: must be a table with at least 'index'")
            continue
        for key, value in spec.items():
            types: Any = allowed.get(key)
            if types is None:
                errors.append(f"{p}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})")
            elif (isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,))) \
                    or not isinstance(value, types):
                errors.append(f"{p}.{key}: wrong type {type(value).__name__}")
        index = spec.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or not 1 <= index <= 64:
            errors.append(f"{p}.index: must be a channel number 1-64, got {index!r}")
        elif index in used:
            errors.append(f"{p}.index: channel {index} is already used by {used[index]}")
        else:
            used[index] = name
        if not 0 <= spec.get("min_active", 0.1) <= 1:
            errors.append(f"{p}.min_active: must be 0..1")
        if errors or not isinstance(index, int):
            continue
        out[name] = Channel(name, index, **{k: v for k, v in spec.items() if k != "index"})
    if errors:
        raise ConfigError("; ".join(errors))
    return out


def _blocks_error(blocks: dict, model: str, path: str) -> str | None:
    if set(blocks) - set(TESIRA_BLOCKS) or (blocks and model != "tesira"):
        return f"{path}.blocks: only for tesira, with keys {', '.join(TESIRA_BLOCKS)}"
    return None


def check_options(table: dict, path: str) -> list[str]:
    """A DSP's own config rules (the config check calls them through its kind): the channel
    table and Tesira's instance tags."""
    errors = []
    if "channels" in table:
        try:
            parse_channels(table["channels"], f"{path}.channels")
        except ConfigError as exc:
            errors.extend(str(exc).split("; "))
    blocks = _blocks_error(table.get("blocks", {}), table.get("model", ""), path)
    idle, fast = table.get("idle_meter_rate_ms", IDLE_METER_RATE_MS), table.get("meter_rate_ms", 100)
    if isinstance(idle, int) and isinstance(fast, int) and not fast <= idle <= MAX_IDLE_METER_RATE_MS:
        errors.append(f"{path}.idle_meter_rate_ms: must be from meter_rate_ms to {MAX_IDLE_METER_RATE_MS}, "
                      f"got {idle}")
    return errors + ([blocks] if blocks else [])


class AudioAdapter(DeviceAdapter):
    kind = "dsp"

    def __init__(self, cfg, data_dir=None):
        super().__init__(cfg, data_dir)
        self.channels = parse_channels(cfg.options.get("channels", {}), f"devices.{cfg.id}.channels")
        self.window_s = float(cfg.options.get("window_s", 5.0))
        self.idle_rate_ms = int(cfg.options.get("idle_meter_rate_ms", IDLE_METER_RATE_MS))
        self.device: AudioDevice | None = None
        self._wanted: dict[str, float] = {}      # who needs live meters -> until when (monotonic)
        self._wanted_lock = threading.Lock()
        self._verify_at = 0.0                    # the next mute read back, pushes or not
        self._turn = 0                           # the channel it reads
        self._noise = 0                          # garbled lines seen on the link so far

    def _driver(self) -> AudioDevice:
        if self.device is None:
            opts = self.cfg.options
            settings = {"channels": [c.index for c in self.channels.values()], "timeout": POLL_TIMEOUT_S,
                        "meter_rate_ms": int(opts.get("meter_rate_ms", 100))}
            if "baud" in opts:
                settings["baud"] = opts["baud"]
            blocks = opts.get("blocks", {})
            wrong = _blocks_error(blocks, self.cfg.model, f"devices.{self.cfg.id}")
            if wrong:
                raise ConfigError(wrong)
            self.device = self.factory()(self.cfg.model, self.cfg.url, **settings, **blocks)
            self.device.on_event(self._told)
        return self.device

    def _told(self, event: dict) -> None:
        """The device told of a change (the reader thread): a mute is polled at once."""
        if event["kind"] == "mute":
            self.poke()

    def connect(self) -> None:
        device = self._driver()
        device.open(timeout=5.0)             # mutes read or subscribed on the way
        self._verify_at = time.monotonic() + VERIFY_S
        self._noise = _garbled(device)
        device.set_meter_rate(self._rate())  # the meters: slow, or live when someone needs them

    # --- who needs live meters -------------------------------------------------------

    def want_meters(self, who: str, seconds: float) -> bool:
        """``who`` needs live levels for ``seconds`` from now (asking again renews it). Any
        thread, no I/O. True when the stream does not run at the live rate yet: the caller
        then switches it under the device's lock (:meth:`hold_meters`), else the next poll does."""
        until = time.monotonic() + seconds
        with self._wanted_lock:
            self._wanted[who] = max(until, self._wanted.get(who, 0.0))
        device = self.device
        return device is None or not device.metering or device.stream_ms != device.meter_rate_ms

    def hold_meters(self, who: str, seconds: float) -> None:
        """:meth:`want_meters` and the stream switched now (holding the device's lock)."""
        if self.want_meters(who, seconds):
            self._driver().set_meter_rate(self._rate())

    def _rate(self) -> int:
        now = time.monotonic()
        with self._wanted_lock:
            for who in [w for w, until in self._wanted.items() if until <= now]:
                del self._wanted[who]
            live = bool(self._wanted)
        return self._driver().meter_rate_ms if live else self.idle_rate_ms

    def poll(self) -> dict:
        device = self._driver()
        now = time.monotonic()
        garbled = _garbled(device)
        heard = device.line.heard_at
        quiet = heard is None or now - heard > (device.stream_ms / 1000 if device.metering else 0.0) + 1.0
        if garbled != self._noise or not device.pushes_mutes:
            for ch in self.channels.values():    # a garbled line may have been a mute's news
                device.get_mute(ch.index)
            self._noise, self._verify_at = garbled, now + VERIFY_S
        elif quiet or not device.connected or now >= self._verify_at:
            chans = list(self.channels.values())   # one request proves the DSP answers
            device.get_mute(chans[self._turn % len(chans)].index)
            self._turn += 1
            self._verify_at = now + VERIFY_S
            if device.stream_stale():
                log.info("%s: the meters stopped while the DSP answers (it restarted?): subscribing again",
                         self.id)
                device.resume()
        device.set_meter_rate(self._rate())
        levels = self.levels()
        out = {"mutes": self.mutes(), "levels": levels,
               "clipping": {name: level is not None and level >= self.channels[name].clip_db
                            for name, level in levels.items()}}
        noise = device.line.degraded()
        if noise:
            out["degraded"] = noise
        return out

    def live_checks(self, values: dict) -> list[CheckResult]:
        """A microphone muted that should be open (or open that should be muted), and the
        line's noise. Levels and clipping are values: a loud word is no fault, and silence
        is not either (the in-hearing watch judges clipping that lasts)."""
        out = []
        mutes = values.get("mutes", {})
        for name, ch in self.channels.items():
            muted = mutes.get(name)
            if muted is None:
                continue
            ok = muted != ch.expect_unmuted
            code = "dsp.channel.ok" if ok else ("dsp.channel.muted" if muted else "dsp.channel.unmuted")
            out.append(self.live(f"mute.{name}", ok, code, channel=ch.label or name))
        noise = values.get("degraded")
        out.append(self.live("link", not noise, "dsp.link_noise" if noise else "dsp.link"))
        return out

    def clears(self, live: CheckResult, found: CheckResult) -> bool:
        if live.check.startswith("mute.") and found.code in ("dsp.channel.muted", "dsp.channel.unmuted"):
            return found.check == "channel." + live.check[len("mute."):]
        return super().clears(live, found)

    def close(self) -> None:
        if self.device is not None:
            self.device.close()
            self.device = None

    # --- for the panel ---------------------------------------------------------------

    def levels(self) -> dict[str, float | None]:
        lv = self._driver().levels()
        return {name: lv.get(ch.index) for name, ch in self.channels.items()}

    def mutes(self) -> dict[str, bool | None]:
        mutes = self._driver().mutes
        return {name: mutes.get(ch.index) for name, ch in self.channels.items()}

    def set_mute(self, name: str, muted: bool) -> None:
        if name not in self.channels:
            raise ConfigError(f"no channel named {name!r} (configured: {', '.join(self.channels)})")
        self._driver().set_mute(self.channels[name].index, muted)

    # --- self-test -------------------------------------------------------------------

    def checks(self, ctx: CheckContext) -> list[CheckResult]:
        device = self._driver()
        try:
            if not device.connected:
                device.open(timeout=min(5.0, max(0.5, ctx.remaining())))
            mutes = {name: device.get_mute(ch.index) for name, ch in self.channels.items()}
        except DeviceError as exc:
            return [self.result("reachable", False, code="dsp.unreachable", detail=str(exc))]
        results = [self.result("reachable", True, code="dsp.reachable")]
        window = max(0.5, min(self.window_s, ctx.remaining() - 1.0))
        floors = {ch.index: ch.noise_floor_db for ch in self.channels.values()}
        clips = {ch.index: ch.clip_db for ch in self.channels.values()}
        try:
            measured = device.measure(window, floors, clips, cancelled=ctx.cancelled)
        except DeviceError as exc:
            measured = {}
            results.append(self.result("meters", False, code="dsp.meters", detail=str(exc)))
        for name, ch in self.channels.items():
            results.append(self._judge(ch, mutes[name], measured.get(ch.index), window))
        noise = device.line.degraded()
        results.append(self.result("link", not noise, code="dsp.link_noise" if noise else "dsp.link", detail=noise))
        return results

    def _judge(self, ch: Channel, muted: bool, m: Measurement | None, window: float) -> CheckResult:
        check = f"channel.{ch.name}"
        values = m.to_dict() if m else {}
        params = {"channel": ch.label or channel_label(ch.index), "index": ch.index, "muted": muted,
                  "seconds": window, **values}

        def res(ok, code, detail=""):
            return self.result(check, ok, value=values.get("peak_db"), code=code,
                               detail=f"{ch.name} (channel {ch.index}): {detail}" if detail else "", **params)

        if ch.expect_unmuted and muted:
            return res(False, "dsp.channel.muted")
        if not ch.expect_unmuted:
            return res(True, "dsp.channel.spare_muted") if muted else res(False, "dsp.channel.unmuted")
        if m is None or not m.samples:
            return res(False, "dsp.channel.no_meter", f"no meter readings in {window:.1f} s")
        if m.clipped:
            return res(False, "dsp.channel.clipping", f"peak {m.peak_db:.1f} dBFS, {m.clipped} of {m.samples} "
                                                      f"readings at or above {ch.clip_db:g} dBFS")
        if m.active < ch.min_active:
            return res(False, "dsp.channel.dead", f"no signal above the noise floor {ch.noise_floor_db:g} dBFS in "
                                                  f"{window:.1f} s (peak {m.peak_db:.1f} dBFS)")
        return res(True, "dsp.channel.ok", f"signal peak {m.peak_db:.1f} dBFS, {m.active:.0%} of {window:.1f} s "
                                           f"above the floor")


def _garbled(device: AudioDevice) -> int:
    return device.line.stats["noise"] + device.line.stats["overlong"]


def channel_label(index: int) -> dict:
    """A microphone's name for people when the config gives it no label: "Микрофон 2" / "2-микрофон"."""
    return texts("label.channel.n", {"n": index})
