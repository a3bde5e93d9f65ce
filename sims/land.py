"""The land-use approval system of 自然资源局 (用地审批 / 不动产), a file-drop exchange.

It drops batch files (XML or CSV, mostly GB18030) into its outbox, the hub's pick-up
folder, and reads application files the hub writes into its inbox; each accepted
application gets a 受理编号 and a receipt record in a new batch in the outbox. The HTTP
server is only the admin API (load, events, applications, faults, reset).

Follows the reference (REFERENCE.md §4 and the gtmap sources it cites): 宗地代码 layout
and 宗地特征码 letters, the land-only 不动产单元号 (…W00000000), 土地用途 codes, QLLX/QLXZ,
field names ZDDM BDCDYH ZDTZM ZL ZDMJ MJDW YT QLLX QLXZ RJL BDCQZH QLRMC ZJZL ZJH; from
gtmap's constants: ZJZL 1 身份证 / 7 营业执照 / 8 统一社会信用代码, QLRLX 1 个人 / 2 企业 /
3 事业单位, MJDW 1 平方米, SLBH 受理编号 with the T prefix, WWSLBH 外网受理编号; the step
record fields SHXXID SXH JDMC SHRYXM SHYJ CZJG QMSJ of gtmap's gx_ww_shxx (审核信息).
Invented: the batch layout (Message/Head/Data/Record, PCH JLS), the JLLX record type, the
step codes JDDM and flows, the item fields SXBM/SXMC, LXDH, the certificate fields ZSMC,
XKZH, FZJG, FZRQ, YXQZ and the permit number formats, file names, the application file, and
the report's fields SQFS SQSJ CNQX SFYCSL DCCS CLXX (sims/land_data.py).

LandNewSim (land_new) is the cloud copy for the dual-track period: the same seed, so the same
cases, in folders of its own, with the drift of sims/drift.py (POST /_admin/drift) applied to
its step records before they are batched; a lag holds its files back from the outbox."""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from . import drift
from .base import HttpError, Request, Response, SimServer, json_response
from .land_codes import RARE_CHARS
from .land_data import BAD_KINDS, CaseFactory
from .land_files import (CSV_ENCODINGS, XML_ENCODINGS, decoded_view, empties_of, render_csv, render_xml,
                         write_atomic)
from .land_inbox import scan_inbox

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parents[1]
MAX_LOAD = 100_000
LAND_FAULTS = {"pickup_paused": bool, "inbox_unmounted": bool, "duplicate_rate": float}


def _now() -> datetime:
    return datetime.now(SHANGHAI).replace(tzinfo=None)


class LandSim(SimServer):
    name = "land"
    default_drift: dict = {}

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int | None = None):
        self._temp = None
        self.base = self._folder(port)
        self.inbox, self.outbox, self.archive = self.base / "inbox", self.base / "outbox", self.base / "sim"
        for d in (self.inbox, self.outbox):
            d.mkdir(parents=True, exist_ok=True)
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        super().__init__(host, port, seed)

    def _folder(self, port: int) -> Path:
        """Where this instance keeps its inbox, outbox and archive."""
        fixed = os.environ.get("TONGBAN_SIM_LAND_DIR", "").strip()
        if fixed:
            return Path(fixed)
        if port == 0:  # tests and the demo: a folder pair of this instance's own
            self._temp = Path(tempfile.mkdtemp(prefix=f"tongban-{self.name.replace('_', '-')}-"))
            return self._temp
        return ROOT / "var" / "land"

    def endpoints(self) -> dict:
        return {"inbox": str(self.inbox), "outbox": str(self.outbox)}

    def setup_routes(self) -> None:
        self.route("POST", "/_admin/load", self.admin_load)
        self.route("GET", "/_admin/events", self.admin_events)
        self.route("GET", "/_admin/files", self.admin_files)
        self.route("GET", "/_admin/applications", self.admin_applications)
        self.route("POST", "/_admin/redeliver", self.admin_redeliver)
        self.route("POST", "/_admin/drift", self.admin_drift)

    def reset_state(self) -> None:
        self.factory = CaseFactory(random.Random(self.seed))
        self.rng = random.Random(None if self.seed is None else self.seed + 1)
        self.land_faults = {"pickup_paused": False, "inbox_unmounted": False, "duplicate_rate": 0.0}
        self._mount(True)
        self.events: list[dict] = []
        self.files: list[dict] = []
        self.batch_no = 0
        self.record_ids: set[str] = set()
        self.applications: dict[str, dict] = {}
        self.refused: list[dict] = []
        self.drift: dict = dict(self.default_drift)
        self.held: list[tuple[float, str, bytes]] = []   # (due, name, bytes): a lagging system's files not yet dropped
        # Only what this system wrote goes: the hub's own folders inside the outbox are its business.
        for folder, pattern in ((self.outbox, "TDSP_*"), (self.outbox, ".TDSP_*"), (self.inbox, "*")):
            for p in folder.glob(pattern):
                if p.is_file():
                    p.unlink()
        shutil.rmtree(self.archive, ignore_errors=True)
        for sub in ("sent", "accepted", "rejected"):
            (self.archive / sub).mkdir(parents=True, exist_ok=True)

    # --- lifecycle: the inbox watcher runs beside the admin server ---------------------
    def start(self) -> "LandSim":
        super().start()
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, name="sim-land-inbox", daemon=True)
        self._watcher.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
        super().stop()
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.05):
            try:
                if self.held:   # a lagging system's files whose time has come
                    with self.lock:
                        self._release()
                if self.land_faults["pickup_paused"] or self.land_faults["inbox_unmounted"]:
                    continue
                with self.lock:
                    scan_inbox(self)
            except OSError:
                pass  # a file vanished mid-scan or the share blinked; the next scan sees it again

    def _mount(self, mounted: bool) -> None:
        offline = self.base / "inbox.unmounted"
        if mounted and offline.exists() and not self.inbox.exists():
            offline.rename(self.inbox)
        elif not mounted and self.inbox.exists():
            self.inbox.rename(offline)

    # --- writing batches ---------------------------------------------------------------
    def _drop(self, name: str, data: bytes) -> None:
        """Put a finished file into the outbox, now, or once the drift's lag has passed (in
        the order written, so name order stays production order). Caller holds the lock."""
        lag = float(self.drift.get("lag_seconds", 0) or 0)
        if lag <= 0 and not self.held:
            write_atomic(self.outbox, name, data)
            return
        self.held.append((time.monotonic() + max(lag, 0.0), name, data))
        self._release()

    def _release(self) -> None:
        now = time.monotonic()
        while self.held and self.held[0][0] <= now:
            _, name, data = self.held.pop(0)
            write_atomic(self.outbox, name, data)

    def _record_id(self) -> str:
        while True:  # SHXXID: 16 characters, 全局唯一
            rid = f"{self.rng.getrandbits(64):016X}"
            if rid not in self.record_ids:
                self.record_ids.add(rid)
                return rid

    def write_batch(self, records: list[dict], fmt: str | None = None, encoding: str | None = None,
                    kind: str = "cases") -> str:
        """Stamp, render and drop one batch file; its records join the event list. Caller holds the lock."""
        r = self.rng
        fmt = fmt or r.choices(("xml", "csv"), (60, 40))[0]
        if encoding is None:
            encoding = (r.choices(list(XML_ENCODINGS), (55, 5, 20, 12, 8))[0] if fmt == "xml"
                        else r.choices(list(CSV_ENCODINGS), (80, 20))[0])
        now = _now()
        stamped = []
        for rec in records:
            rec = {k: v for k, v in rec.items() if k != "_at"}
            rec["SHXXID"] = self._record_id()
            rec["GXSJ"] = now.strftime("%Y-%m-%d %H:%M:%S.%f")
            stamped.append(rec)
        self.batch_no += 1
        if fmt == "xml":
            empty_style = [r.random() < 0.3 for _ in stamped]
            stamped = empties_of(stamped, empty_style)
            head = {"PCH": f"{self.batch_no:08d}", "FSSJ": now.strftime("%Y-%m-%d %H:%M:%S"),
                    "JLS": len(stamped), "XZQDM": "330100", "XTBS": "TDSP"}
            data = render_xml(stamped, head, encoding, empty_style)
        else:
            data = render_csv(stamped, encoding)
        # Name order is production order: date, then a batch number that never goes back.
        name = f"TDSP_{now:%Y%m%d}_{self.batch_no:08d}.{fmt}"
        (self.archive / "sent" / name).write_bytes(data)
        self._drop(name, data)
        self.events.extend(decoded_view(rec, fmt) for rec in stamped)
        self.files.append({"name": name, "format": fmt, "encoding": encoding, "records": len(stamped),
                           "sha256": hashlib.sha256(data).hexdigest(), "kind": kind, "duplicate_of": None})
        if self.land_faults["duplicate_rate"] and r.random() < self.land_faults["duplicate_rate"]:
            self.redeliver(name)
        return name

    def redeliver(self, name: str) -> str:
        """The same bytes again under a new name, as a producer that re-sends after a timeout."""
        original = next((f for f in self.files if f["name"] == name), None)
        if original is None:
            raise HttpError(404, f"no batch named {name}", field="name")
        data = (self.archive / "sent" / name).read_bytes()
        self.batch_no += 1
        new = f"TDSP_{_now():%Y%m%d}_{self.batch_no:08d}.{original['format']}"
        (self.archive / "sent" / new).write_bytes(data)
        self._drop(new, data)
        self.files.append({**original, "name": new, "duplicate_of": name})
        return new

    def load(self, cases: int, bad: int = 0, fmt: str | None = None, encoding: str | None = None,
             batch_records: int | None = None, rare: float = 0.08, rare_chars: str | None = None) -> dict:
        with self.lock:
            self.factory.rare_chars = tuple(rare_chars) if rare_chars else RARE_CHARS
            made = [self.factory.case(None, rare) for _ in range(cases)]
            kinds = [BAD_KINDS[i % len(BAD_KINDS)] for i in range(bad)]
            made += [self.factory.case(k, rare) for k in kinds]
            records = sorted((rec for case in made for rec in case),
                             key=lambda rec: (rec["_at"], rec["SLBH"], int(rec["SXH"])))
            if self.drift:
                records = drift.apply(records, self.drift, DRIFT_KEYS)
            names, i = [], 0
            while i < len(records):
                size = batch_records or self.rng.randint(20, 80)
                names.append(self.write_batch(records[i:i + size], fmt, encoding))
                i += size
        return {"created": cases, "cases": [c[0]["SLBH"] for c in made[:cases]],
                "bad": [{"case": c[0]["SLBH"], "kind": k} for c, k in zip(made[cases:], kinds)],
                "files": names}

    # --- admin routes ------------------------------------------------------------------
    def admin_load(self, req: Request) -> Response:
        body = req.json() or {}
        if not isinstance(body, dict):
            raise HttpError(400, "body must be a JSON object")
        counts = {}
        for key, default in (("cases", None), ("bad", 0)):
            value = body.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_LOAD:
                raise HttpError(400, f"{key} must be an integer between 0 and {MAX_LOAD}", field=key)
            counts[key] = value
        fmt, encoding = body.get("format"), body.get("encoding")
        if fmt not in (None, "xml", "csv"):
            raise HttpError(400, "format must be xml or csv", field="format")
        allowed = XML_ENCODINGS if fmt == "xml" else CSV_ENCODINGS if fmt == "csv" else {}
        if encoding is not None and encoding not in allowed:
            raise HttpError(400, f"encoding must be one of {sorted(allowed)} (and needs a format)", field="encoding")
        size = body.get("batch_records")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise HttpError(400, "batch_records must be a positive integer", field="batch_records")
        rare = body.get("rare", 0.08)
        if isinstance(rare, bool) or not isinstance(rare, (int, float)) or not 0 <= rare <= 1:
            raise HttpError(400, "rare must be a number between 0 and 1", field="rare")
        chars = body.get("rare_chars")
        if chars is not None and (not isinstance(chars, str) or not chars):
            raise HttpError(400, "rare_chars must be a non-empty string", field="rare_chars")
        return json_response(self.load(counts["cases"], counts["bad"], fmt, encoding, size, float(rare), chars))

    def admin_drift(self, req: Request) -> Response:
        return json_response(drift.set_drift(self, req.json()))

    def admin_events(self, req: Request) -> Response:
        with self.lock:
            items = list(self.events)
        return json_response({"count": len(items), "items": items})

    def admin_files(self, req: Request) -> Response:
        with self.lock:
            items = list(self.files)
        return json_response({"count": len(items), "items": items})

    def admin_applications(self, req: Request) -> Response:
        with self.lock:
            items = list(self.applications.values())
            refused = list(self.refused)
        return json_response({"count": len(items), "items": items, "refused": refused,
                              "duplicates_refused": sum(1 for r in refused if r["why"] == "duplicate")})

    def admin_redeliver(self, req: Request) -> Response:
        body = req.json() or {}
        with self.lock:
            name = body.get("name") or next((f["name"] for f in reversed(self.files) if f["kind"] == "cases"), None)
            if name is None:
                raise HttpError(409, "nothing was written yet")
            return json_response({"name": self.redeliver(name), "duplicate_of": name})

    def _admin_faults(self, req: Request) -> Response:
        body = req.json() or {}
        if not isinstance(body, dict):
            raise HttpError(400, "faults must be a JSON object")
        mine = {k: body.pop(k) for k in list(body) if k in LAND_FAULTS}
        for key, value in mine.items():
            if LAND_FAULTS[key] is bool and not isinstance(value, bool):
                raise HttpError(400, f"{key} must be true or false", field=key)
            if LAND_FAULTS[key] is float and (isinstance(value, bool) or not isinstance(value, (int, float))
                                              or not 0 <= value <= 1):
                raise HttpError(400, f"{key} must be a number between 0 and 1", field=key)
        base = self.faults.update(body)
        with self.lock:
            self.land_faults.update(mine)
            if "inbox_unmounted" in mine:
                self._mount(not mine["inbox_unmounted"])
            return json_response({**base, **self.land_faults})


# The land system's own names for the fields drift works on (sims/drift.py): the step code,
# its time, the case (受理编号), the step number; a decision (审批 or 登簿) is what the
# "extra event" drift records twice.
DRIFT_KEYS = {"step": "JDDM", "time": "QMSJ", "case": "SLBH", "seq": "SXH", "extra_step": ("301", "302"),
              "materials": "CLXX"}


class LandNewSim(LandSim):
    """The cloud copy of the land-use approval system for the dual-track period: the same seed,
    so the same cases, dropped into folders of its own (never the old one's), with the drift
    set by POST /_admin/drift (sims/drift.py). Its folders: TONGBAN_SIM_LAND_NEW_DIR, else a
    fresh temporary folder on an ephemeral port, else new/ inside the old system's folder
    (TONGBAN_SIM_LAND_DIR or var/land), so a share mounted for the old one carries both."""
    name = "land_new"

    def _folder(self, port: int) -> Path:
        fixed = os.environ.get("TONGBAN_SIM_LAND_NEW_DIR", "").strip()
        if fixed:
            return Path(fixed)
        if port == 0:
            self._temp = Path(tempfile.mkdtemp(prefix="tongban-land-new-"))
            return self._temp
        return Path(os.environ.get("TONGBAN_SIM_LAND_DIR", "").strip() or ROOT / "var" / "land") / "new"

    def endpoints(self) -> dict:
        # work_dir "": the hub's processing/, done/ and seen.sha256 for this track inside this
        # outbox, never a work folder the old track's settings may name (shared, the two tracks
        # would claim each other's files and take one's batches for duplicates of the other's).
        return {**super().endpoints(), "work_dir": ""}
