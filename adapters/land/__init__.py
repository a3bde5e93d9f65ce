"""自然资源 用地审批: the land-use approval system, exchanging batch files through folders.

Northbound it drops XML and CSV batch files (often GB18030) into its outbox, which the
source picks up; southbound the sink writes application files into its inbox."""
from __future__ import annotations

import codecs
import os
from pathlib import Path

from hub.adapter import Adapter, CheckResult, ConfigSpec, Field
from hub.config import ROOT

from .folders import WorkFolders
from .sink import LandSink
from .source import LandSource


class LandAdapter(Adapter):
    name = "land"
    department = "land"
    department_label = ("自然资源局", "land resources")
    system = "land-approval"
    style = "file"
    has_sink = True
    spec = ConfigSpec(fields=(
        Field("outbox", "folder the land system drops its batch files into; the hub picks them up here",
              required=True, example="/mnt/tdsp/outbox"),
        Field("inbox", "folder the hub writes application files into; the land system picks them up",
              required=True, example="/mnt/tdsp/inbox"),
        Field("work_dir", "where processing/, done/, failed/, duplicates/ and seen.sha256 live; must be on the "
              "outbox's filesystem (the claim is a rename); empty means the outbox itself. In dual-track the "
              "new track needs its own (tracks.new.work_dir), never the old track's", default="",
              example="/mnt/tdsp/hub"),
        Field("csv_encoding", "encoding of CSV files without a byte order mark", default="gb18030",
              example="gb18030"),
        Field("page_size", "records published per step", type=int, default=200, example=200),
        Field("poll_interval", "seconds between looks at an empty outbox", type=float, default=1.0),
    ))

    def __init__(self, config: dict):
        super().__init__(config)
        try:
            codecs.lookup(self.config["csv_encoding"])
        except LookupError:
            raise ValueError(f"adapter land: csv_encoding {self.config['csv_encoding']!r} is not an encoding") from None

    def _path(self, key: str) -> Path:
        p = Path(os.path.expanduser(self.config[key]))
        return p if p.is_absolute() else ROOT / p

    def folders(self) -> WorkFolders:
        outbox = self._path("outbox")
        return WorkFolders(outbox, self._path("work_dir") if self.config["work_dir"] else outbox)

    def source(self) -> LandSource:
        return LandSource(self.folders(), self.config["csv_encoding"])

    def sink(self) -> LandSink:
        return LandSink(self.name, self._path("inbox"))

    @classmethod
    def simulator(cls):
        from sims.harness import BuiltinSimulator   # the simulators are not needed to run the hub
        return BuiltinSimulator("land")

    def check(self) -> CheckResult:
        f, inbox = self.folders(), self._path("inbox")
        for what, folder in (("outbox", f.outbox), ("inbox", inbox)):
            if not folder.is_dir():
                return CheckResult(False, f"{what} {folder} is not there (share not mounted?)")
            if not os.access(folder, os.R_OK | os.W_OK | os.X_OK):
                return CheckResult(False, f"{what} {folder} is not readable and writable by the hub")
        try:
            f.ensure()
        except OSError as exc:
            return CheckResult(False, f"cannot create the work folders under {f.work}: {exc}")
        if f.outbox.stat().st_dev != f.processing.stat().st_dev:
            return CheckResult(False, f"work folder {f.work} is on another filesystem than the outbox: "
                                      "claiming a file would not be atomic")
        return CheckResult(True, "folders reachable", {"waiting": len(f.waiting()),
                                                       "processing": f.in_processing(),
                                                       "done": sum(1 for _ in f.done.glob("*.xml")) +
                                                       sum(1 for _ in f.done.glob("*.csv"))})
