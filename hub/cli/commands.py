"""`tongban run | verify | status | schema export | mapping test | adapters`."""
from __future__ import annotations

import json
import sys

from hub.config import load_settings


def run(args) -> int:
    from hub.adapter.settings import validate
    from hub.observability import multiproc, server
    settings = load_settings(args.config)
    validate(settings)   # every adapter's settings, all problems at once, before any worker starts
    if args.metrics_port is not None:
        settings["metrics_port"] = args.metrics_port
    if args.workers and args.workers > 1:
        from hub.runtime.workers import run_workers
        multiproc.prepare()              # before the workers start: they sum into one /metrics here
        server.serve(settings)
        return run_workers(settings, args.workers)
    from hub.runtime.runner import run_forever
    server.serve(settings)
    return run_forever(settings)


def verify(args) -> int:
    from hub.ops.verify import render, verify as do_verify
    from hub.store import Store
    settings = load_settings(args.config)
    store = Store.open(settings["db_url"])
    report = do_verify(settings, store)
    if args.wait:   # a hub that is still delivering: ask again until all matches or the time is up
        import time
        deadline = time.monotonic() + args.wait
        while not report["ok"] and time.monotonic() < deadline:
            time.sleep(1.0)
            report = do_verify(settings, store)
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else render(report))
    return 0 if report["ok"] else 1


def status(args) -> int:
    from hub.ops.status import render, status as do_status
    from hub.store import Store
    settings = load_settings(args.config)
    store = Store.open(settings["db_url"])
    if args.watch:
        from hub.cli.watch import watch
        return watch(lambda: do_status(settings, store), render, args.watch, args.json)
    report = do_status(settings, store)
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str) if args.json else render(report))
    return 0


def schema_export(args) -> int:
    from hub.model.schema_export import export
    from hub.ops.contract import wire_schemas
    paths = [str(p) for p in export(args.directory, wire_schemas())]
    print(json.dumps({"written": paths}, ensure_ascii=False) if args.json else "\n".join(paths))
    return 0


def schema_diff(args) -> int:
    """Exit 1 on a breaking change without a version bump (hub/model/schema_diff.py)."""
    from hub.model.schema_diff import diff_paths
    report = diff_paths(args.old, args.new)
    for line in report.bumped:
        print(f"version bumped: {line}")
    for line in report.allowed:
        print(f"breaking, allowed by the bump: {line}")
    for line in report.breaking:
        print(f"BREAKING: {line}")
    print("compatible" if report.ok else f"{len(report.breaking)} breaking change(s) without a version bump")
    return 0 if report.ok else 1


def schema_asyncapi(args) -> int:
    """Write docs/asyncapi.yaml and schemas/current/ (or, with --check, say whether they are up to date)."""
    from pathlib import Path
    from hub.ops import contract
    from hub.model.schema_export import dumps
    if args.check:
        stale = []
        if contract.ASYNCAPI_FILE.read_text(encoding="utf-8") != contract.render(contract.asyncapi()):
            stale.append(str(contract.ASYNCAPI_FILE))
        for name, schema in contract.all_schemas().items():
            path = contract.SCHEMA_DIR / f"{name}.schema.json"
            if not path.exists() or path.read_text(encoding="utf-8") != dumps(schema):
                stale.append(str(path))
        for path in stale:
            print(f"out of date: {path}")
        print("up to date" if not stale else "run `tongban schema asyncapi` and commit the result")
        return 1 if stale else 0
    out = Path(args.output) if args.output else contract.ASYNCAPI_FILE
    for path in contract.write(out):
        print(path)
    return 0


def mapping_test(args) -> int:
    from hub.mapping.samples import run_samples
    settings = load_settings(args.config)
    results = run_samples(args.directory or settings["mappings_dir"])
    failed = [r for r in results if not r.ok]
    if args.json:
        print(json.dumps({"passed": len(results) - len(failed), "failed": len(failed),
                          "samples": [{"name": r.name, "ok": r.ok, "diff": None if r.ok else r.diff} for r in results]},
                         ensure_ascii=False, indent=2, default=str))
        return 1 if failed or not results else 0
    for r in results:
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.name}")
        if not r.ok:
            print(r.diff)
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed or not results else 0


def catalog_sync(args) -> int:
    from hub.ops.catalog import sync
    from hub.store import Store
    from hub.cli.live import progress
    settings = load_settings(args.config)
    with progress("catalog sync 事项目录同步") as advance:
        result = sync(settings, Store.open(settings["db_url"]), progress=advance)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if not result["refused"] else 1


def adapters(args) -> int:
    from hub.adapter import registry
    from hub.model.masking import mask_text
    if args.action == "new":
        from hub.kit.scaffold import new
        if not args.name:
            raise ValueError("adapters new: name the adapter, e.g. tongban adapters new socialsec --style rest")
        root = new(args.name, args.style, args.package, department=args.department, label_zh=args.label_zh,
                   label_en=args.label_en)
        print(f"wrote {root}: install it with  pip install -e {root}  and run its tests with  pytest {root}/tests")
        return 0
    if args.action == "docs":
        return adapters_docs(args)
    if args.action == "list" and args.json:
        rows = []
        for name, target in sorted(registry.available().items()):
            cls = registry.load(name)
            rows.append({"name": name, "style": cls.style, "department": cls.department, "system": cls.system,
                         "target": target})
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if args.action == "list":
        for name, target in sorted(registry.available().items()):
            cls = registry.load(name)
            print(f"{name:<10} {cls.style:<9} {cls.department:<9} {cls.system:<22} {target}")
        return 0
    if not args.name:
        raise ValueError(f"adapters {args.action}: name an adapter (installed: {', '.join(sorted(registry.available()))})")
    cls = registry.load(args.name)
    if args.action == "check" and args.conformance:
        from hub.cli.conformance import conformance
        return conformance(args)
    if args.action == "describe":
        print(json.dumps({"name": cls.name, "department": cls.department, "system": cls.system, "style": cls.style,
                          "config": cls.spec.describe()}, ensure_ascii=False, indent=2))
        return 0
    from hub.adapter.settings import adapter_conf
    settings = load_settings(args.config)
    conf = adapter_conf((settings.get("adapters") or {}).get(args.name, {}))
    result = cls(conf).check()
    if args.json:
        print(json.dumps({"name": args.name, "ok": result.ok, "detail": mask_text(result.detail)}, ensure_ascii=False))
        return 0 if result.ok else 1
    print(f"{'ok' if result.ok else 'FAILED'}: {mask_text(result.detail)}", file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def adapters_docs(args) -> int:
    """Write (or, with --check, compare) the catalogue of installed adapters, docs/adapters.md."""
    from pathlib import Path
    from hub.config import ROOT
    from hub.kit.catalogue import catalogue
    from hub.mapping import MappingSet
    settings = load_settings(args.config)
    out = Path(args.out) if args.out else ROOT / "docs" / "adapters.md"
    text = catalogue(MappingSet.load(settings["mappings_dir"]).mappings)
    if args.check:
        current = out.exists() and out.read_text(encoding="utf-8") == text
        print("up to date" if current else f"out of date: {out}; run `tongban adapters docs` and commit the result")
        return 0 if current else 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(json.dumps({"written": [str(out)]}) if args.json else str(out))
    return 0


def register(sub) -> None:
    r = sub.add_parser("run", help="run the hub's workers (SIGTERM stops them gracefully)")
    r.add_argument("--workers", type=int, default=1,
                   help="worker processes under this one (default 1: this process is the worker); they share "
                        "the sources and partitions with each other and with other `tongban run` elsewhere")
    r.add_argument("--metrics-port", type=int, default=None,
                   help="serve /metrics, /healthz, /readyz on this port (default: metrics_port in the settings, "
                        "9400; 0: off)")
    r.set_defaults(func=run)
    v = sub.add_parser("verify", help="reconcile the legacy simulators with the destination simulators")
    v.add_argument("--json", action="store_true")
    v.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                   help="verify again every second until all matches, for up to SECONDS")
    v.set_defaults(func=verify)
    s = sub.add_parser("status", help="queue depths, rates and ledger counts")
    s.add_argument("--json", action="store_true", help="with --watch: one JSON object a line (NDJSON)")
    s.add_argument("--watch", type=float, nargs="?", const=2.0, default=None, metavar="SECONDS",
                   help="refresh every SECONDS (default 2) until Ctrl-C")
    s.set_defaults(func=status)
    sc = sub.add_parser("schema", help="canonical model schemas")
    scs = sc.add_subparsers(dest="action", required=True)
    ex = scs.add_parser("export", help="write the JSON Schema of each canonical model")
    ex.add_argument("directory")
    ex.set_defaults(func=schema_export)
    df = scs.add_parser("diff", help="compare two schema directories (or files); exit 1 on a breaking change "
                                     "without a version bump")
    df.add_argument("old")
    df.add_argument("new")
    df.set_defaults(func=schema_diff)
    aa = scs.add_parser("asyncapi", help="write docs/asyncapi.yaml and schemas/current/ from the code")
    aa.add_argument("--output", help="where the AsyncAPI document goes (default docs/asyncapi.yaml)")
    aa.add_argument("--check", action="store_true", help="only check the checked-in files are up to date")
    aa.set_defaults(func=schema_asyncapi)
    m = sub.add_parser("mapping", help="mapping files")
    ms = m.add_subparsers(dest="action", required=True)
    t = ms.add_parser("test", help="run every sample pair under mappings/<dept>/samples/")
    t.add_argument("directory", nargs="?")
    t.set_defaults(func=mapping_test)
    from . import mapping
    mapping.register(ms)
    c = sub.add_parser("catalog", help="the provincial item catalogue")
    cs = c.add_subparsers(dest="action", required=True)
    cs.add_parser("sync", help="fetch every item from the catalogue system into the store").set_defaults(
        func=catalog_sync)
    a = sub.add_parser("adapters", help="installed adapters: list, describe NAME, check NAME (connection test; "
                       "--conformance: the conformance suite), new NAME (scaffold a package), docs (the catalogue page)")
    a.add_argument("action", choices=["list", "describe", "check", "new", "docs"])
    a.add_argument("name", nargs="?")
    a.add_argument("--style", default="rest", help="new: rest, soap, db or file")
    a.add_argument("--package", help="new: the folder to write (default ./tongban-NAME)")
    a.add_argument("--department", help="new: the department, when not NAME")
    a.add_argument("--label-zh", default="", help="new: the department's Chinese name")
    a.add_argument("--label-en", default="", help="new: the department's English name")
    a.add_argument("--out", help="docs: the catalogue file (default docs/adapters.md)")
    a.add_argument("--check", action="store_true", help="docs: only say whether the catalogue is current")
    a.add_argument("--conformance", action="store_true", help="check: run the conformance suite against the "
                   "adapter's simulator on the settings' broker (docs/conformance.md); exit 1 on any failure")
    a.add_argument("--only", help="check --conformance: these checks only, comma-separated")
    a.add_argument("--page-budget", type=float, default=5.0, help="check --conformance: seconds a page may take")
    a.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    a.set_defaults(func=adapters)
