"""The dual-track comparator (hub.dualtrack.compare) against DeepDiff on the same pairs.

    .venv/bin/python bench/comparator.py [--pairs 20000] [--drift 0.1] [--runs 3]

Pairs are what the matcher sees: a case event (or licence) of a CaseFactory case mapped
by the commerce mappings for the old track, and a new-track copy of the same record (own
ids and trace), 5 materials added to each case event as DESIGN.md's measurement had. A
share (--drift) of the new copies differ: a status, a handler, or a dropped opinion.
Both tools get the same pairs and ignore the same envelope fields; the run fails unless
both flag exactly the same pairs. Rates are the median of --runs, in CPU time of this
one thread: the work is pure Python on one core, and wall time on a shared machine
measures the neighbours too."""
from __future__ import annotations

import argparse
import copy
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deepdiff import DeepDiff, __version__ as deepdiff_version  # noqa: E402

from hub.dualtrack.compare import compare  # noqa: E402
from hub.dualtrack.rules import DEFAULT_IGNORE, Rules  # noqa: E402
from hub.mapping import MappingSet  # noqa: E402
from sims.commerce_data import CaseFactory  # noqa: E402

_NAMES = ("设立登记申请书", "公司章程", "股东身份证明", "住所使用证明", "法定代表人任职文件")
MATERIALS = [{"name": n, "required": i < 3, "provided": True, "reused_certificate": "E-4" if i == 4 else None}
             for i, n in enumerate(_NAMES)]


def make_pairs(n: int, drift: float, seed: int = 7) -> tuple[list[tuple[dict, dict]], list[bool]]:
    mappings = MappingSet.load(ROOT / "mappings")
    rng = random.Random(seed)
    pairs, drifted, event_id = [], [], 0
    factory = CaseFactory(random.Random(seed))
    while len(pairs) < n:
        if len(factory.names) > 15_000:   # its name space is finite: start another
            factory = CaseFactory(random.Random(seed + len(pairs)), start=factory.clock)
        for event in factory.case()[1]:
            event.pop("_at")
            event_id += 1
            record = {"eventId": event_id, **event, "updatedAt": f"2026-06-01T09:00:00.{event_id:06d}"}
            olds = [e.model_dump(mode="json") for e in mappings.apply("commerce-registry", record, track="old")]
            news = [e.model_dump(mode="json") for e in mappings.apply("commerce-registry", dict(record,
                    eventId=event_id + 10**8), track="new")]
            for old, new in zip(olds, news):
                if old["kind"] == "case_event":
                    old["payload"]["materials"] = copy.deepcopy(MATERIALS)
                    new["payload"]["materials"] = copy.deepcopy(MATERIALS)
                d = rng.random() < drift
                if d:
                    _drift(new, rng)
                pairs.append((old, new))
                drifted.append(d)
    return pairs[:n], drifted[:n]


def _drift(env: dict, rng: random.Random) -> None:
    p = env["payload"]
    if p["kind"] != "case_event":
        p["issuer"] = p["issuer"] + "（新）"
        return
    choice = rng.randrange(3)
    if choice == 0:
        p["type"] = "in_review"
    elif choice == 1:
        p["handler"] = "新系统"
    else:
        p["opinion"] = None


def timed(fn, pairs) -> tuple[float, list[bool]]:
    start = time.process_time()
    verdicts = [fn(a, b) for a, b in pairs]
    return len(pairs) / (time.process_time() - start), verdicts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=20000, help="pairs for the hub's comparator")
    ap.add_argument("--deepdiff-pairs", type=int, default=1500, help="first N of the same pairs for DeepDiff")
    ap.add_argument("--drift", type=float, default=0.1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    pairs, drifted = make_pairs(args.pairs, args.drift)
    rules = Rules.from_spec({"unordered": {"payload.materials": "name"}})
    # The same fields left out on both sides: DeepDiff's exclude_paths names them from the root.
    excluded = [f"root['{p}']" if "." not in p else "root" + "".join(f"['{x}']" for x in p.split("."))
                for p in DEFAULT_IGNORE]

    def ours(a, b):
        return compare(a, b, rules).verdict == "mismatch"

    def theirs(a, b):
        return bool(DeepDiff(a, b, exclude_paths=excluded))

    ours_rates, theirs_rates = [], []
    for _ in range(args.runs):
        rate, v_ours = timed(ours, pairs)
        ours_rates.append(rate)
        rate, v_theirs = timed(theirs, pairs[:args.deepdiff_pairs])
        theirs_rates.append(rate)
        if v_ours != drifted or v_theirs != drifted[:args.deepdiff_pairs]:
            print("FAILED: the two comparators disagree about which pairs differ", file=sys.stderr)
            return 1
    size = statistics.mean(len(json.dumps(a, ensure_ascii=False).encode()) for a, _ in pairs[:500])
    result = {"pairs": args.pairs, "deepdiff_pairs": args.deepdiff_pairs, "drift": args.drift,
              "mean_envelope_bytes": round(size), "tongban_pairs_per_s": round(statistics.median(ours_rates)),
              "deepdiff_pairs_per_s": round(statistics.median(theirs_rates)), "deepdiff_version": deepdiff_version}
    result["ratio"] = round(result["tongban_pairs_per_s"] / result["deepdiff_pairs_per_s"], 1)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"pairs: {args.pairs} ({args.drift:.0%} with a difference), mean envelope {result['mean_envelope_bytes']}"
          f" bytes, median of {args.runs} runs, CPU time, one core")
    print(f"hub.dualtrack.compare : {result['tongban_pairs_per_s']:>10,} pairs/s")
    print(f"DeepDiff {deepdiff_version:<12} : {result['deepdiff_pairs_per_s']:>10,} pairs/s "
          f"(first {args.deepdiff_pairs} pairs)")
    print(f"ratio                 : {result['ratio']:>10}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
