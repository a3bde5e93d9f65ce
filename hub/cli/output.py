"""The CLI's way out: stdout and stderr with personal data masked in every line.

Each command masks what it knows to be personal (dlq show by field names); this is the
guard behind them, so that a message no command expected to hold an ID number (an
exception's text, a third-party library's warning) still leaves masked. Whole lines are
masked, not each write: print() writes a line in pieces, and an ID cut in two would pass."""
from __future__ import annotations

import io
import sys

from hub.model.masking import mask


class MaskedStream(io.TextIOBase):
    def __init__(self, inner):
        self.inner = inner
        self._pending = ""

    def write(self, text: str) -> int:
        self._pending += text
        cut = max(self._pending.rfind("\n"), self._pending.rfind("\r"))
        if cut >= 0:
            done, self._pending = self._pending[:cut + 1], self._pending[cut + 1:]
            self.inner.write(mask(done))
        return len(text)

    def flush(self) -> None:
        # a prompt (input()) or a progress line without its end: masked as it stands
        if self._pending:
            self.inner.write(mask(self._pending))
            self._pending = ""
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    @property
    def encoding(self):
        return self.inner.encoding


def install() -> None:
    """Mask sys.stdout and sys.stderr from here on (idempotent)."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, MaskedStream):
            setattr(sys, name, MaskedStream(stream))


# Commands whose output is no report (a server running until stopped).
NO_REPORT = {"tongban run"}


def leaf_parsers(parser):
    """Every subcommand parser that runs something (has no subcommands of its own)."""
    import argparse
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield parser
        return
    for action in subs:
        for child in dict.fromkeys(action.choices.values()):
            yield from leaf_parsers(child)


def ensure_json_flag(parser) -> None:
    """--json on every command that prints a report (tests/unit/test_cli_json.py). A command
    whose answer is JSON already takes it too, so scripts can pass it everywhere."""
    if parser.prog in NO_REPORT or any("--json" in a.option_strings for a in parser._actions):
        return
    parser.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
