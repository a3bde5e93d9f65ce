"""`tongban sign keygen | public`: the keys that sign the messages to a destination
(hub/delivery/province_signing.py). The key files are those of `tongban log keygen`
(hub/audit/signing.py); the public half goes to the destination's operators as a trust
document, ``{"public_keys": [{"algorithm", "key_id", "public"}]}``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from hub.config import ROOT, load_settings


def _signing(settings: dict, destination: str) -> dict:
    from hub.delivery.province_signing import signing_settings
    dests = settings.get("destinations") or {}
    if destination not in dests:
        raise ValueError(f"no destination {destination!r} in the settings (known: {', '.join(dests)})")
    s = signing_settings(destination, dests[destination].get("signing"))
    if s is None:
        raise ValueError(f"destinations.{destination}.signing is not set: this destination signs nothing")
    return s


def trust_document(settings: dict, destination: str) -> dict:
    """The configured key's public half (the key made now if it is not there yet)."""
    from hub.delivery.province_signing import MessageSigner
    signer = MessageSigner.from_settings(destination, _signing(settings, destination))
    return {"public_keys": [signer.public_entry()]}


def register_with_simulator(settings: dict, sim_url: str, destination: str = "province") -> None:
    """Put the configured key in a province simulator's trust list, as the node's operators
    would when handed the trust document (the demo and the tests do this)."""
    import requests
    if ((settings.get("destinations") or {}).get(destination) or {}).get("signing") is None:
        return
    doc = trust_document(settings, destination)
    requests.post(f"{sim_url.rstrip('/')}/_admin/signatures", json=doc, timeout=10).raise_for_status()


def keygen(args) -> int:
    from hub.audit.signing import Signer
    settings = load_settings(args.config)
    current = _signing(settings, args.destination)
    algorithm = args.algorithm or current["algorithm"]
    signer = Signer.generate(algorithm)
    path = Path(args.path or f"var/keys/{args.destination}-signing-{signer.key_id}.key")
    path = path if path.is_absolute() else ROOT / path
    if path.exists():
        raise ValueError(f"{path} exists: a key file in use is never overwritten; give another --path")
    signer.save(path)
    pub = path.with_name(path.name + ".pub.json")
    doc = {"public_keys": [{**signer.public.to_json()}]}
    pub.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps({"key_file": str(path), "public": str(pub), "key_id": signer.key_id, "algorithm": algorithm}))
        return 0
    print(f"{algorithm} key {signer.key_id} -> {path} (mode 0600), public half -> {pub}\n"
          f"rotation: 1) hand {pub.name} to the {args.destination} node's operators: they add it to the trust list,"
          f" the old key staying there;\n          2) set destinations.{args.destination}.signing.key_file: {path}"
          f" (and key_id if the node gave one) and restart the hub;\n          3) once nothing signed with the old key"
          " is in flight (queues and retry queues empty, the replay window passed), ask them to remove it.")
    return 0


def public(args) -> int:
    doc = trust_document(load_settings(args.config), args.destination)
    text = json.dumps(doc, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"key {doc['public_keys'][0]['key_id']} -> {args.out}")
    else:
        sys.stdout.write(text + "\n")
    return 0


def register(sub) -> None:
    p = sub.add_parser("sign", help="the keys that sign messages to a destination (the provincial node)")
    ps = p.add_subparsers(dest="sign_command", required=True)
    k = ps.add_parser("keygen", help="a new signing key for a destination (a rotation's first step)")
    k.add_argument("destination")
    k.add_argument("--path", help="key file to write (default var/keys/<destination>-signing-<key id>.key)")
    k.add_argument("--algorithm", choices=("ed25519", "sm2"), help="default: the destination's signing.algorithm")
    k.set_defaults(func=keygen)
    u = ps.add_parser("public", help="the configured key's public half, as the trust document the node takes")
    u.add_argument("destination")
    u.add_argument("--out", help="file to write (default: standard output)")
    u.set_defaults(func=public)
