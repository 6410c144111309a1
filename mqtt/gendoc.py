"""Write docs/mqtt-contract.md: the hand-written contract text with every command and its
arguments (from the declarations in controller/commands.py) and the JSON Schemas generated
from :mod:`vksroom.mqtt.contract` appended, so the document can not drift.

    python -m vksroom.mqtt.gendoc            # rewrite docs/mqtt-contract.md
    python -m vksroom.mqtt.gendoc --check    # exit 1 if the file is out of date
"""
from __future__ import annotations

import sys
from pathlib import Path

from vksroom.controller import texts

from . import contract

DOC = Path(__file__).resolve().parents[1] / "docs" / "mqtt-contract.md"
MARK = "<!-- generated below by python -m vksroom.mqtt.gendoc: do not edit -->"


def render(current: str) -> str:
    head = current.split(MARK)[0].rstrip() + "\n\n" if MARK in current else current
    return (f"{head}{MARK}\n\n## Event topics, new and old (generated)\n\n{contract.markdown_event_topics()}\n"
            f"## Commands (generated)\n\n{contract.markdown_commands()}\n"
            f"## Refusal codes (generated)\n\n{refusal_codes()}\n"
            f"## JSON Schemas (schema_version {contract.SCHEMA_VERSION}, generated)\n\n{contract.markdown_schemas()}")


def refusal_codes() -> str:
    """The ``code`` a rejected reply may carry, with its sentence in English (the room says it
    in its own language; ``{…}`` are filled in)."""
    codes = sorted(c for c in texts.CATALOGUE if c.startswith(("refused.", "schedule.")))
    rows = [f"| `{c}` | {texts.CATALOGUE[c]['en']} |" for c in codes]
    return "\n".join(["| `code` | sentence (en) |", "|---|---|", *rows]) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    current = DOC.read_text(encoding="utf-8")
    new = render(current)
    if "--check" in argv:
        if new != current:
            print(f"{DOC} is out of date: run python -m vksroom.mqtt.gendoc", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
