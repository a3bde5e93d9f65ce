"""The destination clients against their simulators, next to the thinnest client that does
the same call, in the same run.

    .venv/bin/python bench/delivery_clients.py [--calls 3000] [--runs 3] [--only platform|province]

(a) platform: the hub's REST client (hub/delivery/platform_rest.py: PlatformRest.send, with
    its retries and outcome reading) vs a bare `requests.Session(trust_env=False)`
    POST loop with the same headers, to the platform simulator. Goal: ratio >= 0.8 (the hub's
    client prepares its request once and copies it, so it can beat session.post).
(b) province: zeep per call (a zeep Client's prepared service proxy, `service.Report(...)`,
    which is how the hub's client called it before it used a template), the hub's client
    (hub/delivery/province_soap.py: ProvinceSoap.send: zeep's envelope as a template, zeep's
    parser for the answer), and a bare string template through session.post whose answer's
    code is read with lxml (no retries, no fault reading). Goal: the hub's client >= 1,000 calls/s per core.

The simulators run in a child process (benchlib.SimProcess, free ports), so the figures are
the client's: "calls/s" is wall-clock, "per core" is calls per CPU second of this process
(the client alone; the simulator's CPU is shown beside it). Bodies are the pipeline
benchmark's real canonical envelopes (~1.2 KB, Chinese text), each call with a fresh
message id, so every call is accepted (no duplicates path). Runs interleave the variants
(run 1 of each, run 2 of each, ...); each row is the median run."""
from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
import uuid
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
import requests  # noqa: E402
import zeep  # noqa: E402
from lxml import etree  # noqa: E402
from zeep.transports import Transport  # noqa: E402

from benchlib import SimProcess, envelopes, load_mappings, make_records  # noqa: E402
from hub.delivery import ACCEPTED, DUPLICATE  # noqa: E402
from hub.delivery.platform_rest import PlatformRest  # noqa: E402
from hub.delivery.province_soap import ProvinceSoap  # noqa: E402

TNS = "urn:tongban:province:report:1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def calls(n: int, base):
    """n (body, meta) pairs cycling over the real envelopes, each with a fresh message id."""
    return [(b, dataclasses.replace(m, message_id=str(uuid.uuid4()))) for b, m, _ in
            (base[i % len(base)] for i in range(n))]


# --- platform ---------------------------------------------------------------------------------
class RawRest:
    """What PlatformRest does, with nothing around it: one session, one POST, the status."""

    def __init__(self, url: str):
        self.endpoint = url.rstrip("/") + "/api/v1/messages"
        self.session = requests.Session()
        self.session.trust_env = False

    def send(self, body, meta):
        r = self.session.post(self.endpoint, data=body, headers={
            "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": meta.message_id})
        if r.status_code not in (200, 201, 409):
            raise RuntimeError(f"platform answered {r.status_code}")
        return ACCEPTED

    def close(self):
        self.session.close()


# --- province ---------------------------------------------------------------------------------
class ZeepPerCall:
    """zeep as the hub's client used it before the template: the service proxy prepared once,
    zeep building and parsing every call."""

    def __init__(self, wsdl: str):
        self.session = requests.Session()
        self.session.trust_env = False
        settings = zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True)
        self.service = zeep.Client(wsdl, settings=settings, transport=Transport(session=self.session)).service

    def send(self, body, meta):
        r = self.service.Report(messageId=meta.message_id, kind=meta.kind, caseNo=meta.case_no or "",
                                sequence=meta.sequence or 0, department=meta.department, payload=body.decode("utf-8"))
        if str(r.code) not in ("0", "1"):
            raise RuntimeError(f"province answered code {r.code}")
        return ACCEPTED

    def close(self):
        self.session.close()


class RawTemplate:
    """The bare way: a string template with the values escaped in, one session.post, the answer's
    code read with lxml (no DTD checks, no fault reading, no retries)."""

    HEAD = (f'<?xml version=\'1.0\' encoding=\'utf-8\'?>\n<soap-env:Envelope xmlns:soap-env="{SOAP_ENV}">'
            f'<soap-env:Body><ns0:Report xmlns:ns0="{TNS}">')

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.session = requests.Session()
        self.session.trust_env = False
        self.headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{TNS}#Report"'}
        self.parser = etree.XMLParser(resolve_entities=False, no_network=True)

    def send(self, body, meta):
        xml = (f"{self.HEAD}<ns0:messageId>{escape(meta.message_id)}</ns0:messageId><ns0:kind>{escape(meta.kind)}"
               f"</ns0:kind><ns0:caseNo>{escape(meta.case_no or '')}</ns0:caseNo><ns0:sequence>{meta.sequence or 0}"
               f"</ns0:sequence><ns0:department>{escape(meta.department)}</ns0:department><ns0:payload>"
               f"{escape(body.decode('utf-8'))}</ns0:payload></ns0:Report></soap-env:Body></soap-env:Envelope>")
        r = self.session.post(self.endpoint, data=xml.encode("utf-8"), headers=self.headers)
        code = etree.fromstring(r.content, self.parser).findtext(f".//{{{TNS}}}code")
        if code not in ("0", "1"):
            raise RuntimeError(f"province answered {r.status_code} code {code}")
        return ACCEPTED

    def close(self):
        self.session.close()


def timed(client, work, sim) -> dict:
    client.send(*work[0])   # warm: connection, WSDL
    w0, c0, s0 = time.monotonic(), time.process_time(), sim.cpu()
    for body, meta in work[1:]:
        if client.send(body, meta) not in (ACCEPTED, DUPLICATE):
            raise RuntimeError("not accepted")
    wall, cpu, scpu = time.monotonic() - w0, time.process_time() - c0, sim.cpu() - s0
    n = len(work) - 1
    return {"rate": n / wall, "per_core": n / cpu, "client_cpu": cpu, "sim_cpu": scpu, "wall": wall}


def measure(variants: dict, work_of, runs: int, sim) -> dict:
    rows = {name: [] for name in variants}
    for i in range(runs):
        for name, make in variants.items():
            client = make()
            try:
                r = timed(client, work_of(), sim)
            finally:
                client.close()
            rows[name].append(r)
            print(f"  run {i + 1} {name:<26} {r['rate']:>7,.0f} calls/s  {r['per_core']:>7,.0f} per client core",
                  flush=True)
    return {name: sorted(rs, key=lambda r: r["rate"])[len(rs) // 2] for name, rs in rows.items()}


def show(title: str, results: dict) -> None:
    print(f"\n{title} (median run)\n{'':<28} {'calls/s':>8} {'per core':>9} {'client CPU':>10} {'sim CPU':>8}")
    for name, r in results.items():
        print(f"{name:<28} {r['rate']:>8,.0f} {r['per_core']:>9,.0f} {r['client_cpu']:>9.2f}s {r['sim_cpu']:>7.2f}s")


def build_rate(base, seconds: float = 1.5) -> dict:
    """Envelope building alone, no network: zeep's create_message vs the template."""
    from benchlib import ROOT
    wsdl = str(ROOT / "sims" / "province.wsdl")
    client = zeep.Client(wsdl, settings=zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True))
    tpl = RawTemplate("http://unused")
    out = {}
    for name, build in (
            ("zeep create_message", lambda b, m: etree.tostring(client.create_message(
                client.service, "Report", messageId=m.message_id, kind=m.kind, caseNo=m.case_no or "",
                sequence=m.sequence or 0, department=m.department, payload=b.decode("utf-8")))),
            ("template", lambda b, m: escape(b.decode("utf-8")) + tpl.HEAD + escape(m.message_id))):
        n, t0 = 0, time.process_time()
        while time.process_time() - t0 < seconds:
            b, m, _ = base[n % len(base)]
            build(b, m)
            n += 1
        out[name] = n / (time.process_time() - t0)
    return out


def run(calls_n: int = 3000, runs: int = 3, only: str | None = None, base=None) -> dict:
    """Both halves; returns {"platform_ratio", "province_per_core", ...} for pipeline.py."""
    base = base or envelopes(make_records(300), load_mappings())
    print(f"{len(base)} envelopes, mean body {statistics.fmean(len(b) for b, _, _ in base):.0f} B; "
          f"{calls_n} calls per run, {runs} runs", flush=True)
    out = {}
    if only in (None, "platform"):
        with SimProcess("platform") as sim:
            url = sim.urls["platform"]
            res = measure({"hub PlatformRest": lambda: PlatformRest("platform", url),
                           "raw requests (trust_env=False)": lambda: RawRest(url)},
                          lambda: calls(calls_n, base), runs, sim)
        show("(a) platform REST", res)
        hub, raw = res["hub PlatformRest"], res["raw requests (trust_env=False)"]
        out["platform"], out["platform_raw"] = hub["rate"], raw["rate"]
        out["platform_ratio"] = hub["rate"] / raw["rate"]
        print(f"platform: hub/raw = {out['platform_ratio']:.2f} (goal >= 0.8); per client core "
              f"{hub['per_core']:,.0f} vs {raw['per_core']:,.0f}")
    if only in (None, "province"):
        with SimProcess("province") as sim:
            endpoint = sim.urls["province"] + "/ws/report"
            res = measure({"zeep per call": lambda: ZeepPerCall(endpoint + "?wsdl"),
                           "hub ProvinceSoap": lambda: ProvinceSoap("province", endpoint + "?wsdl"),
                           "raw template": lambda: RawTemplate(endpoint)},
                          lambda: calls(calls_n, base), runs, sim)
        show("(b) province SOAP", res)
        hub = res["hub ProvinceSoap"]
        out.update(province=hub["rate"], province_per_core=hub["per_core"],
                   province_zeep_per_core=res["zeep per call"]["per_core"],
                   province_raw_per_core=res["raw template"]["per_core"])
        builds = build_rate(base)
        print("envelope building alone, per core: " + ", ".join(f"{k} {v:,.0f}/s" for k, v in builds.items()))
        print(f"province: hub client {hub['per_core']:,.0f} calls/s per client core (goal >= 1,000), "
              f"{hub['rate']:,.0f} calls/s wall; zeep per call {out['province_zeep_per_core']:,.0f} per core")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=3000, help="calls per variant per run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=("platform", "province"))
    args = ap.parse_args()
    r = run(args.calls, args.runs, args.only)
    print("CLIENTS " + " ".join(f"{k}={v:.2f}" if "ratio" in k else f"{k}={v:.0f}" for k, v in r.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
