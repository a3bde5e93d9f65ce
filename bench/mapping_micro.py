"""Mapping + validation alone, no broker, no store: records/s on one core.

    .venv/bin/python bench/mapping_micro.py [--records 15000] [--runs 3]

Stages, each including the ones before it:
  build     the compiled field getters and transforms (dict building only)
  validate  + pydantic model_validate of the payload (USCC check digits included)
  apply     MappingSet.apply: + message id (uuid5), envelope (model_construct)
  serialise + env.model_dump_json().encode(): the body the source worker publishes
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import SYSTEM, load_mappings, make_records  # noqa: E402

from hub.model import MODELS  # noqa: E402


def stage_build(ms, records):
    out = 0
    for rec in records:
        for m in ms.for_system(SYSTEM):
            if m.when(rec.data):
                m.build(rec.data)
                out += 1
    return out


def stage_validate(ms, records):
    out = 0
    for rec in records:
        for m in ms.for_system(SYSTEM):
            if m.when(rec.data):
                MODELS[m.kind].model_validate(m.build(rec.data))
                out += 1
    return out


def stage_apply(ms, records):
    return sum(len(ms.apply(SYSTEM, rec.data)) for rec in records)


def stage_serialise(ms, records):
    out = 0
    for rec in records:
        for env in ms.apply(SYSTEM, rec.data):
            env.model_dump_json().encode("utf-8")
            out += 1
    return out


STAGES = {"build": stage_build, "validate": stage_validate, "apply": stage_apply, "serialise": stage_serialise}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=15000, help="legacy records (3 per case)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    records = make_records(max(1, args.records // 3))
    ms = load_mappings()
    stage_serialise(ms, records[:500])  # warm up (lazy imports, caches)
    print(f"{len(records)} records, median of {args.runs} runs, one core")
    print(f"{'stage':<10} {'records/s':>10} {'envelopes/s':>12} {'us/record':>10}")
    results = {}
    for name, fn in STAGES.items():
        rates = []
        for _ in range(args.runs):
            gc.collect()
            t0 = time.perf_counter()
            envelopes = fn(ms, records)
            dt = time.perf_counter() - t0
            rates.append((len(records) / dt, envelopes / dt))
        rec_s = statistics.median(r for r, _ in rates)
        env_s = statistics.median(e for _, e in rates)
        results[name] = rec_s
        print(f"{name:<10} {rec_s:>10,.0f} {env_s:>12,.0f} {1e6 / rec_s:>10.1f}")
    print(f"BENCH mapping records_per_s={results['apply']:.0f} with_serialise={results['serialise']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
