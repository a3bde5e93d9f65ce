"""`tongban dualtrack status | timeline | adjudicate | cutover | rollback | mode | report`:
the handover team's view of the dual-track period (双轨期) and its audited decisions."""
from __future__ import annotations

import getpass
import json
import sys
import unicodedata
from datetime import date, datetime, time, timedelta
from pathlib import Path

from hub.config import ROOT, load_settings

_VERDICTS = {"match": "一致 match", "mismatch": "不一致 mismatch", "missing_old": "旧轨缺失 missing old",
             "missing_new": "新轨缺失 missing new", "noise": "噪声 noise", "waiting": "等待 waiting"}


def _open(args):
    from hub.store import Store
    from hub.store.protection import protect
    settings = load_settings(args.config)
    return settings, protect(Store.open(settings["db_url"]), settings)


def _when(text: str | None, end_of_day: bool = False) -> datetime | None:
    """ISO date or time; naive means Asia/Shanghai; a bare date as an end means the end of that day."""
    from hub.model import SHANGHAI
    if not text:
        return None
    try:
        d = date.fromisoformat(text)
    except ValueError:
        dt = datetime.fromisoformat(text)
        return dt if dt.tzinfo else dt.replace(tzinfo=SHANGHAI)
    return datetime.combine(d + timedelta(days=1) if end_of_day else d, time(), SHANGHAI)


def _actor(args) -> str:
    return args.actor or getpass.getuser()


def status(args) -> int:
    from hub.adapter.departments import label, names
    from hub.dualtrack.config import PRIMARY
    from hub.dualtrack.modes import mode_info
    from hub.dualtrack.readiness import readiness
    settings, store = _open(args)
    out = {}
    for dept in names():
        info = mode_info(store, settings, dept, fresh=True)
        r = readiness(store, settings, dept)
        out[dept] = {"label": label(dept), "mode": info, "primary": PRIMARY[info["mode"]],
                     "ready": r.ready, "reasons": r.reasons, "figures": r.figures}
    if args.json:
        print(json.dumps({"departments": out}, ensure_ascii=False, indent=2, default=str))
        return 0
    print(f"{'dept':<10}{'mode':<18}{'primary':<8}{'pairs':>7}{'match':>8}{'mismatch':>9}{'rate':>9}"
          f"{'miss old/new':>14}{'noise':>7}{'waiting':>8}  ready")
    for dept, d in out.items():
        f, m = d["figures"], d["mode"]
        rate = "-" if f["match_rate"] is None else f"{f['match_rate']:.2%}"
        print(f"{dept:<10}{m['mode'] + ' (' + m['source'] + ')':<18}{d['primary']:<8}{f['pairs']:>7}{f['match']:>8}"
              f"{f['mismatch']:>9}{rate:>9}{str(f['missing_old']) + '/' + str(f['missing_new']):>14}"
              f"{f['noise']:>7}{f['waiting']:>8}  {'yes' if d['ready'] else 'no'}")
        print(f"          {d['label']}; last {f['window_days']:g} days, {f['cases']} cases")
        for reason in d["reasons"]:
            print(f"          - {reason}")
    return 0


def timeline(args) -> int:
    from hub.dualtrack.matcher import step_of, summary
    from hub.adapter.departments import label
    _, store = _open(args)
    rows = store.dualtrack_comparisons(case_no=args.case_no)
    for w in store.dualtrack_waiting(case_no=args.case_no):
        # The step from its envelope: a twin row's own key may be a record key's hash (pair_by).
        rows.append({**{k: w[k] for k in ("department", "case_no", "kind")}, "sequence": step_of(w),
                     "verdict": "waiting",
                     "old_summary": summary(w["old_envelope"]), "new_summary": summary(w["new_envelope"]),
                     "fields": [], "lag_seconds": None, "track": None, "deadline": w["deadline"]})
    rows.sort(key=lambda r: (r["sequence"], r["kind"], r["verdict"] == "noise"))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return 0 if rows else 1
    if not rows:
        print(f"no comparison for case {args.case_no}", file=sys.stderr)
        return 1
    dept = rows[0]["department"]
    print(f"case {args.case_no}  ({label(dept)})")
    print(f"{'seq':<4}{'kind':<12}{_pad('old track 旧轨', 41)}{_pad('new track 新轨', 41)}{_pad('verdict', 20)}"
          f"{'lag':>8}  fields")
    for r in rows:
        verdict = _VERDICTS[r["verdict"]] + (f" ({r['track']} re-run)" if r["verdict"] == "noise" else "")
        lag = "" if r["lag_seconds"] is None else f"{r['lag_seconds']:.1f}s"
        diffs = "; ".join(f"{d['path']}: {_show(d, 'old')} → {_show(d, 'new')}" for d in r["fields"] or [])
        if r["verdict"] == "waiting":
            diffs = f"deadline {r['deadline']}"
        print(f"{r['sequence']:<4}{r['kind']:<12}{_pad(_step(r['old_summary'], r['sequence']), 41)}"
              f"{_pad(_step(r['new_summary'], r['sequence']), 41)}{_pad(verdict, 20)}{lag:>8}  {diffs}")
    return 0


def _pad(text: str, width: int) -> str:
    # Chinese characters take two terminal columns: pad by what the eye sees.
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - shown)


def _step(s: dict | None, seq: int | None = None) -> str:
    if not s:
        return "—"
    # Paired by record key, a track may number the step otherwise (a step it lacks or has
    # more of before it): its own number is shown beside the row's.
    own = s.get("sequence")
    mark = f"#{own} " if own is not None and seq is not None and own != seq else ""
    return f"{mark}{s['step']} {str(s['at'] or '')[:19].replace('T', ' ')}"


def _show(d: dict, side: str) -> str:
    return "(absent)" if d.get("absent") == side else json.dumps(d.get(side), ensure_ascii=False, default=str)


def adjudicate(args) -> int:
    from hub.dualtrack.adjudication import adjudicate as do
    _, store = _open(args)
    new_id = do(store, department=args.dept, kind=args.kind, field=args.field, classification=args.classification,
                reason=args.reason, actor=_actor(args), expires_at=_when(args.expires, end_of_day=True),
                old_value=args.old, new_value=args.new)
    if args.json:
        print(json.dumps({"id": new_id, "department": args.dept, "kind": args.kind, "field": args.field,
                          "classification": args.classification}, ensure_ascii=False, default=str))
        return 0
    print(f"adjudication {new_id}: {args.dept} {args.kind} {args.field} -> {args.classification}")
    return 0


def cutover(args) -> int:
    from hub.dualtrack.modes import NotReady, cutover as do
    settings, store = _open(args)
    try:
        done = do(store, settings, args.dept, actor=_actor(args), reason=args.reason, force=args.force)
    except NotReady as exc:
        print(f"refused: {args.dept} is not ready for cutover:", file=sys.stderr)
        for reason in exc.readiness.reasons:
            print(f"  - {reason}", file=sys.stderr)
        print("  (--force with a --reason overrides; the figures are recorded)", file=sys.stderr)
        return 1
    print(json.dumps(done, ensure_ascii=False, default=str))
    return 0


def rollback(args) -> int:
    from hub.dualtrack.modes import rollback as do
    settings, store = _open(args)
    print(json.dumps(do(store, settings, args.dept, actor=_actor(args), reason=args.reason), ensure_ascii=False,
                     default=str))
    return 0


def set_mode(args) -> int:
    from hub.dualtrack.modes import set_mode as do
    settings, store = _open(args)
    print(json.dumps(do(store, settings, args.dept, args.mode, actor=_actor(args), reason=args.reason),
                     ensure_ascii=False, default=str))
    return 0


def report(args) -> int:
    from hub.dualtrack.report import build_report
    settings, store = _open(args)
    r = build_report(store, settings, args.dept, since=_when(args.since), until=_when(args.until, end_of_day=True))
    if args.format == "json":
        body: bytes = json.dumps(r, ensure_ascii=False, indent=2, default=str).encode("utf-8")
    elif args.format == "html":
        from hub.dualtrack.report_html import render_html
        body = render_html(r).encode("utf-8")
    else:
        from hub.dualtrack.report_xlsx import render_xlsx
        body = render_xlsx(r)
    if args.out is None and args.format == "json":
        sys.stdout.write(body.decode("utf-8") + "\n")
        return 0
    out = Path(args.out or ROOT / "var" / f"dualtrack-{args.dept}-{r['generated_at'][:10]}.{args.format}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    print(json.dumps({"written": str(out), "format": args.format}) if args.json else out)
    return 0


def _department(name: str) -> str:
    import argparse
    import difflib

    from hub.adapter.departments import names
    if name not in names():
        near = difflib.get_close_matches(name, names(), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise argparse.ArgumentTypeError(f"unknown department {name!r} (installed: {', '.join(names())}){hint}")
    return name


def register(sub) -> None:
    from hub.dualtrack.adjudication import CLASSES
    from hub.dualtrack.config import MODES
    d = sub.add_parser("dualtrack", help="dual-track period: status, timeline, adjudicate, cutover, rollback, report")
    ds = d.add_subparsers(dest="action", required=True)

    def dept(p):
        # checked when parsed, not listed: listing loads every installed adapter for any command
        p.add_argument("dept", type=_department, help="a department of an installed adapter")

    def decision(p):
        p.add_argument("--reason", required=True, help="why (recorded with who and the figures)")
        p.add_argument("--actor", help="who (default: the login name)")

    s = ds.add_parser("status", help="each department's mode, volumes, match rate and readiness")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=status)
    t = ds.add_parser("timeline", help="one case's steps on both tracks side by side, with verdicts")
    t.add_argument("case_no")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=timeline)
    a = ds.add_parser("adjudicate", help="classify a mismatch pattern (department + kind + field)")
    dept(a)
    a.add_argument("--kind", required=True, help='case_event, certificate, ... or "*"')
    a.add_argument("--field", required=True, help="field path, globs allowed; missing_old / missing_new for twins")
    a.add_argument("--as", dest="classification", required=True, choices=CLASSES)
    a.add_argument("--old", help="only this old value (as stored, masked)")
    a.add_argument("--new", help="only this new value (as stored, masked)")
    a.add_argument("--expires", help="date (valid through that day, Asia/Shanghai) or ISO time")
    decision(a)
    a.set_defaults(func=adjudicate)
    c = ds.add_parser("cutover", help="make the new track primary (refused unless ready, or --force)")
    dept(c)
    c.add_argument("--force", action="store_true", help="cut over although not ready")
    decision(c)
    c.set_defaults(func=cutover)
    r = ds.add_parser("rollback", help="make the old track primary again (mode shadow)")
    dept(r)
    decision(r)
    r.set_defaults(func=rollback)
    m = ds.add_parser("mode", help="start or stop comparing (off, shadow) or retire the old track after cutover")
    dept(m)
    m.add_argument("mode", choices=MODES)
    decision(m)
    m.set_defaults(func=set_mode)
    p = ds.add_parser("report", help="per-field mismatches, missing, lag, trend and readiness")
    dept(p)
    p.add_argument("--since", help="date or ISO time (default: start of the readiness window)")
    p.add_argument("--until", help="date (through that day) or ISO time (default: now)")
    p.add_argument("--format", choices=("html", "xlsx", "json"), default="html")
    p.add_argument("--out", help="file (default: var/dualtrack-DEPT-DATE.EXT; json goes to stdout)")
    p.set_defaults(func=report)
