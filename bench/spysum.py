"""Summarise py-spy raw (collapsed) stacks: where a hub worker's samples go.

    .venv/bin/python bench/spysum.py DIR_OR_FILES... [--top 30]

Prints the share of samples per frame inclusive (a frame counted once per stack) and by
self time, plus a few buckets that answer "where does the time go" for the hub: the store
(SQLAlchemy + the driver), the broker client (kombu/amqp), mapping, pydantic, JSON, and the
supervisor's idle waits. py-spy without --idle samples only threads that are running or
want the GIL, so the shares are of busy time."""
from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

BUCKETS = [   # first match wins, looked for from the innermost frame outwards
    ("store: SQLAlchemy + driver", re.compile(r"\((sqlalchemy|psycopg|sqlite3)/|hub/store/")),
    ("broker client: kombu/amqp", re.compile(r"\((kombu|amqp|vine)/")),
    ("mapping", re.compile(r"hub/mapping/")),
    ("pydantic", re.compile(r"\(pydantic")),
    ("uuid", re.compile(r"\(uuid\.py")),
    ("json", re.compile(r"\(json/")),
]


def load(paths: list[Path]) -> list[tuple[list[str], int]]:
    stacks = []
    for path in paths:
        for f in ([*path.glob("*.txt")] if path.is_dir() else [path]):
            for line in f.read_text().splitlines():
                stack, _, n = line.strip().rpartition(" ")
                if stack and n.isdigit():
                    stacks.append((stack.split(";"), int(n)))
    return stacks


def summarise(stacks, top: int = 30) -> str:
    total = sum(n for _, n in stacks) or 1
    incl, own, buckets = Counter(), Counter(), Counter()
    for frames, n in stacks:
        own[frames[-1]] += n
        for key in {re.sub(r":\d+\)$", ")", f) for f in frames}:
            incl[key] += n
        for f in reversed(frames):
            hit = next((name for name, rx in BUCKETS if rx.search(f)), None)
            if hit:
                buckets[hit] += n
                break
        else:
            buckets["other (hub code, threads, stdlib)"] += n
    out = [f"{total} samples", "-- buckets (innermost match)"]
    out += [f"{100 * c / total:5.1f}%  {k}" for k, c in buckets.most_common()]
    out += ["-- hub functions, inclusive"]
    out += [f"{100 * c / total:5.1f}%  {k}" for k, c in incl.most_common() if "hub/" in k][:top]
    out += ["-- self"]
    out += [f"{100 * c / total:5.1f}%  {k}" for k, c in own.most_common(top // 2)]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    print(summarise(load(args.paths), args.top))


if __name__ == "__main__":
    main()
