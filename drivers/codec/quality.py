"""Call quality in one neutral model, whatever the codec: what arrives from the far side and
what leaves us, in the units people compare with published guidance.

Cisco (xAPI ``xStatus MediaChannels``, one row per media channel) and Poly (``netstats`` and
``advnetstats``) report different figures in different units; each driver maps its own to a
:class:`CallQuality` (see docs/call-quality.md for the sources and what is unverified).
A figure the codec does not report is ``None``, never a guessed zero.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class CallQuality:
    call_id: str
    rx_loss_pct: float | None = None        # packets lost on the way to us, % of the last interval
    tx_loss_pct: float | None = None        # ...on the way to the far side, as the far side reports it
    jitter_ms: float | None = None          # the worst received channel's jitter (RFC 3550)
    rx_kbps: float | None = None            # what arrives now, all channels
    tx_kbps: float | None = None
    negotiated_kbps: float | None = None    # the call rate agreed at connection
    rx_width: int | None = None             # the far side's main video as received
    rx_height: int | None = None
    rx_fps: float | None = None
    rx_audio: bool | None = None            # an incoming audio channel carries packets
    video_protocol: str = ""
    audio_protocol: str = ""
    at: float = field(default_factory=time.time)

    @property
    def rate_ratio(self) -> float | None:
        """Received bit rate as a share of the negotiated rate."""
        if self.rx_kbps is None or not self.negotiated_kbps:
            return None
        return round(self.rx_kbps / self.negotiated_kbps, 3)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["rate_ratio"] = self.rate_ratio
        return out


def number(text: str | None) -> float | None:
    """``"12"``, ``"0.25%"``, ``"384k"``, ``"12mS"`` -> the number; ``None`` when there is none."""
    if text is None:
        return None
    t = text.strip().rstrip("%").strip()
    low = t.lower()
    for unit in ("kbps", "ms", "k"):
        if low.endswith(unit):
            t = t[: -len(unit)]
            break
    try:
        return float(t)
    except ValueError:
        return None


def loss_pct(lost: float, received: float) -> float | None:
    """Lost packets as a share of those sent in the interval (lost + received); None for none."""
    total = lost + received
    return round(100.0 * lost / total, 2) if total > 0 else None


# Poly names received video formats; the sizes are those of the named formats.
FORMAT_SIZES = {"qcif": (176, 144), "cif": (352, 288), "4cif": (704, 576), "sif": (352, 240),
                "4sif": (704, 480), "vga": (640, 480), "svga": (800, 600), "xga": (1024, 768),
                "wcif": (512, 288), "w4cif": (1024, 576), "360p": (640, 360), "448p": (768, 448),
                "576p": (1024, 576), "720p": (1280, 720), "1080p": (1920, 1080)}
