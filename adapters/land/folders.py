"""The pick-up folder and the hub's work folders beside it.

    <outbox>/                 the land system drops finished files here (temp files are dot-named)
    <work>/processing/        the one file being read; a rename out of the outbox claims it
    <work>/done/              read to the end, every record published or dead-lettered
    <work>/failed/            could not be read as a whole; NAME.reason says why
    <work>/duplicates/        same bytes as a file already done; NAME.reason names it
    <work>/seen.sha256        one line per file done: sha256, name, when

The work folder must be on the outbox's filesystem: only a rename there is atomic.
Renames are the whole protocol: a file is in exactly one place at any moment."""
from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from .batch import SUFFIXES


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class WorkFolders:
    def __init__(self, outbox: Path, work: Path):
        self.outbox = outbox
        self.work = work
        self.processing = work / "processing"
        self.done = work / "done"
        self.failed = work / "failed"
        self.duplicates = work / "duplicates"
        self.index = work / "seen.sha256"

    def ensure(self) -> None:
        if not self.outbox.is_dir():
            raise FileNotFoundError(f"outbox {self.outbox} is not there (share not mounted?)")
        for d in (self.processing, self.done, self.failed, self.duplicates):
            d.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def _batches(folder: Path) -> list[str]:
        return sorted(e.name for e in os.scandir(folder)
                      if e.is_file() and not e.name.startswith(".") and e.name.lower().endswith(SUFFIXES))

    def waiting(self) -> list[str]:
        """Finished files in the outbox, in name order: the producer names them so that
        name order is production order (date + batch number)."""
        return self._batches(self.outbox)

    def in_processing(self) -> list[str]:
        return self._batches(self.processing)

    def claim(self, name: str) -> bool:
        """Move a file from the outbox into processing/; False if someone else took it first."""
        try:
            os.rename(self.outbox / name, self.processing / name)
        except FileNotFoundError:
            return False
        _fsync_dir(self.processing)
        return True

    def finish(self, name: str, folder: Path, reason: str | None = None) -> str:
        """Move a file out of processing/ (never over another: a name taken gets .1, .2 ...)."""
        src = self.processing / name
        stem, dot, suffix = name.rpartition(".")
        target, n = folder / name, 0
        while target.exists():
            n += 1
            target = folder / f"{stem}.{n}{dot}{suffix}"
        if reason is not None:
            # The reason first: a file in failed/ without its reason would be a riddle.
            target.with_name(target.name + ".reason").write_text(reason + "\n", encoding="utf-8")
        os.rename(src, target)
        _fsync_dir(folder)
        return target.name

    def seen(self) -> dict[str, str]:
        """sha256 -> name of every file done so far."""
        if not self.index.exists():
            return {}
        out = {}
        for line in self.index.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and len(parts[0]) == 64:
                out.setdefault(parts[0], parts[1])
        return out

    def remember(self, sha: str, name: str) -> None:
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with open(self.index, "a", encoding="utf-8") as fh:
            fh.write(f"{sha}\t{name}\t{stamp}\n")
            fh.flush()
            os.fsync(fh.fileno())
