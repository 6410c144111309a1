"""What a person may read in a sentence, an act or a reason (imported by tests as ``textkit``):
no Latin word but a brand or model name, no unfilled {param}, no path or exception text."""
import re

# brand, model and protocol names that stay in Latin letters in Kazakh and Russian text
LATIN_ALLOWED = {"Cisco", "Poly", "Tesira", "Shure", "VISCA", "ONVIF", "DSP", "SIP", "IP", "USB", "PTZ", "HDMI"}
TECHNICAL = ("/tmp", "Errno", "Traceback", "argument must be", "Exception", "Error:", "None", "http://", "https://")


def latin_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z]+", text) if w not in LATIN_ALLOWED]


def problems(text: str, allow_latin=()) -> list[str]:
    """Everything in ``text`` a court employee should not read."""
    out = [f"Latin word {w!r}" for w in latin_words(text) if w not in allow_latin]
    out += [f"leftover brace in {m!r}" for m in re.findall(r".{0,20}[{}].{0,20}", text)]
    out += [f"technical text {t!r}" for t in TECHNICAL if t in text]
    return out
