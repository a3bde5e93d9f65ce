"""What a signature costs per message to the provincial node (hub/delivery/province_signing.py):
sign and verify, Ed25519 (cryptography, OpenSSL) against SM2 with SM3 (Tongsuo, OpenSSL),
on a ~1.2 KB case event; then calls per second of the hub's province client against the
simulator, unsigned, Ed25519-signed and SM2-signed (the node checking every signature).

    .venv/bin/python bench/sign_province.py [--messages 300] [--calls 300]"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.benchlib import make_records  # noqa: E402
from hub.audit.signing import Signer  # noqa: E402
from hub.delivery.base import MessageMeta  # noqa: E402
from hub.delivery.province_signing import MessageSigner, signed_bytes  # noqa: E402
from hub.delivery.province_soap import ProvinceSoap  # noqa: E402
from sims.province import ProvinceSim  # noqa: E402
from sims.province_trust import Trust, entry  # noqa: E402


def _body(payload: str) -> dict:
    return {"messageId": str(uuid.uuid4()), "kind": "case_event", "caseNo": "SCJG202603310001", "sequence": 2,
            "department": "commerce", "payload": payload}


def sign_verify(algorithm: str, payloads: list[str]) -> tuple[float, float]:
    """(ms to sign one, ms to verify one), medians of the messages."""
    signer = MessageSigner(Signer.generate(algorithm))
    key = signer.signer.public
    signs, verifies = [], []
    for p in payloads:
        body = _body(p)
        t = time.perf_counter()
        header = signer.header(body)
        signs.append(time.perf_counter() - t)
        t = time.perf_counter()
        ok = key.verify(signed_bytes(header, body), header["value"])
        verifies.append(time.perf_counter() - t)
        assert ok
    signs.sort(), verifies.sort()
    return signs[len(signs) // 2] * 1000, verifies[len(verifies) // 2] * 1000


def calls_per_second(algorithm: str | None, payloads: list[str], tmp: Path) -> float:
    signing = {"algorithm": algorithm, "key_file": str(tmp / f"{algorithm}.key")} if algorithm else None
    dest = ProvinceSoap("province", "unset", signing=signing)
    trust = Trust([entry(dest.signer.public_entry())] if algorithm else [])
    with ProvinceSim(port=0, trust=trust) as sim:
        dest.wsdl = f"{sim.url}/ws/report?wsdl"
        dest.send(b"{}", MessageMeta(str(uuid.uuid4()), "case_event", "C0", 1, "commerce"))   # WSDL, template
        t = time.perf_counter()
        for i, p in enumerate(payloads):
            dest.send(p.encode(), MessageMeta(str(uuid.uuid4()), "case_event", f"C{i}", 1, "commerce"))
        rate = len(payloads) / (time.perf_counter() - t)
    dest.close()
    return rate


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=300)
    ap.add_argument("--calls", type=int, default=300)
    args = ap.parse_args()
    records = make_records(max(args.messages, args.calls) // 3 + 1)
    payloads = [json.dumps(r.data, ensure_ascii=False) for r in records]
    size = sum(len(p.encode()) for p in payloads) / len(payloads)
    print(f"payload ~{size:.0f} bytes, {args.messages} messages")
    for alg in ("ed25519", "sm2"):
        s, v = sign_verify(alg, payloads[:args.messages])
        print(f"{alg:<8} sign {s:8.3f} ms/message ({1000 / s:9.0f}/s)   verify {v:8.3f} ms ({1000 / v:9.0f}/s)")
    with tempfile.TemporaryDirectory() as d:
        for alg in (None, "ed25519", "sm2"):
            rate = calls_per_second(alg, payloads[:args.calls], Path(d))
            print(f"province client, {alg or 'unsigned':<8}: {rate:7.0f} calls/s (one thread, node verifying)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
