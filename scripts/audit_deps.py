#!/usr/bin/env python3
"""Dependency audit (issue 13, item 6): pip-audit over the installed environment, failing
only on a known vulnerability that has a fix available (upgrade and it is gone).

  .venv/bin/python scripts/audit_deps.py [--service auto|pypi|osv] [--osv-url URL] [--ignore ID ...]

--service auto (the default): PyPI's vulnerability data (pip-audit's default), and OSV when
PyPI's cannot be read.

Exit 1: at least one installed package has a known vulnerability with a fixed version
(each printed with its id, aliases, fixed versions and description). Exit 0 otherwise: no
such vulnerability, only ones without a fix yet (printed, not failing), or the vulnerability
service could not be reached from here. That last case is said plainly, never as "no
known vulnerabilities": pip-audit itself reports a PyPI it cannot read as every package
"not found on PyPI" and exits 0, which would read as a clean audit. The project itself
(installed editable) is not audited: it is not on PyPI."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

UNREACHABLE = ("ConnectionError", "NameResolutionError", "Could not connect", "Max retries exceeded",
               "Connection refused", "ConnectTimeout", "ReadTimeout")


NOT_RUN = "dependency audit: NOT RUN"


def run_pip_audit(python: str, service: str, osv_url: str | None, ignore: list[str],
                  timeout: int) -> tuple[dict | None, str]:
    with tempfile.TemporaryDirectory(prefix="tongban-audit-") as tmp:
        out = Path(tmp) / "audit.json"
        cmd = [python, "-m", "pip_audit", "--local", "--skip-editable", "--progress-spinner", "off",
               "--format", "json", "--desc", "on", "--aliases", "on", "--timeout", str(timeout),
               "--vulnerability-service", service, "--cache-dir", str(Path(tmp) / "cache"), "--output", str(out)]
        if osv_url and service == "osv":
            cmd += ["--osv-url", osv_url]
        for vuln in ignore:
            cmd += ["--ignore-vuln", vuln]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        doc = json.loads(out.read_text()) if out.exists() and out.stat().st_size else None
        return doc, proc.stderr


def judge(doc: dict | None, stderr: str, service: str) -> tuple[int, list[str]]:
    """(exit code, lines to print) from pip-audit's JSON report (or its error output)."""
    if doc is None:
        last = next((ln.strip() for ln in reversed(stderr.strip().splitlines()) if ln.strip()), "no output")
        if any(mark in stderr for mark in UNREACHABLE):
            return 0, [f"{NOT_RUN}, the vulnerability service ({service}) cannot be reached from "
                       f"here ({last[:200]}); this is not a clean audit"]
        return 1, [f"dependency audit: pip-audit failed: {last[:300]}"]
    # the project itself, installed editable, is not on PyPI: not audited, not worth a word
    deps = [d for d in doc.get("dependencies") or [] if "editable" not in (d.get("skip_reason") or "")]
    skipped = [d for d in deps if d.get("skip_reason")]
    audited = [d for d in deps if not d.get("skip_reason")]
    if deps and not audited:
        return 0, [f"{NOT_RUN}, the vulnerability data ({service}) could not be read for any of "
                   f"the {len(deps)} installed packages (pip-audit: {skipped[0]['skip_reason'][:160]}); "
                   "the service is not reachable from here; this is not a clean audit"]
    lines, fixable, unfixed = [], [], []
    for d in audited:
        for v in d.get("vulns") or []:
            (fixable if v.get("fix_versions") else unfixed).append((d, v))
    for d, v in fixable + unfixed:
        ids = ", ".join([v["id"], *(v.get("aliases") or [])])
        fix = f"fixed in {', '.join(v['fix_versions'])}" if v.get("fix_versions") else "no fix released yet"
        lines.append(f"  {d['name']} {d['version']}: {ids}; {fix}: {(v.get('description') or '').strip()[:300]}")
    tail = f"{len(audited)} packages audited against {service}" + (
        f", {len(skipped)} not found there ({', '.join(d['name'] for d in skipped[:5])}"
        f"{', ...' if len(skipped) > 5 else ''})" if skipped else "")
    if fixable:
        return 1, [f"dependency audit: FAILED, {len(fixable)} known vulnerabilit{'y' if len(fixable) == 1 else 'ies'} "
                   f"with a fix available (upgrade the package; {tail}):", *lines]
    head = f"dependency audit: OK, no known vulnerability with a fix available ({tail})"
    if unfixed:
        return 0, [head + f"; {len(unfixed)} known without a fix, not failing:", *lines]
    return 0, [head]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--python", default=sys.executable, help="the environment's interpreter (default: this one)")
    p.add_argument("--service", choices=("auto", "pypi", "osv"), default="auto")
    p.add_argument("--osv-url", help="an OSV API other than the public one (with --service osv)")
    p.add_argument("--ignore", action="append", default=[], metavar="ID", help="a vulnerability id accepted for now")
    p.add_argument("--timeout", type=int, default=15, help="seconds per request to the service")
    args = p.parse_args(argv)
    for service in (("pypi", "osv") if args.service == "auto" else (args.service,)):
        doc, stderr = run_pip_audit(args.python, service, args.osv_url, args.ignore, args.timeout)
        code, lines = judge(doc, stderr, service)
        print("\n".join(lines), flush=True)
        if not lines[0].startswith(NOT_RUN):
            return code
    return code


if __name__ == "__main__":
    raise SystemExit(main())
