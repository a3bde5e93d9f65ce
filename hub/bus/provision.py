"""`tongban broker provision`: the hub's vhost and one broker user per role (hub/bus/roles.py),
made through the RabbitMQ management HTTP API by an administrator of the broker.

Idempotent: what is already as it should be is left alone, and a second run changes
nothing; a user whose password is in the credentials file keeps it unless `rotate`.
Passwords come from `secrets`; the credentials file (JSON, mode 0600) is what
`broker.credentials_file` points `tongban run` at (hub/bus/credentials.py). Nothing here
logs or prints a password."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from urllib.parse import quote

import requests

from .roles import Role


class ManagementError(RuntimeError):
    """The management API refused or failed; the message names the call and the answer."""


class Management:
    def __init__(self, base_url: str, user: str, password: str, verify: bool | str = True, timeout: float = 10):
        self.base = base_url.rstrip("/") + "/api"
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.auth = (user, password)
        self.session.verify = verify
        self.user, self.timeout = user, timeout

    def call(self, method: str, path: str, body: dict | None = None, ok404: bool = False):
        try:
            resp = self.session.request(method, self.base + path, json=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ManagementError(f"management API at {self.base} unreachable: {exc.__class__.__name__}") from None
        if resp.status_code == 404 and ok404:
            return None
        if resp.status_code == 401:
            raise ManagementError(f"management API refused user {self.user!r} (401): wrong password, or not "
                                  "an administrator")
        if resp.status_code >= 400:
            raise ManagementError(f"management API {method} {path}: {resp.status_code} {resp.text[:200]}")
        return resp.json() if resp.content else None



def password_matches(user: dict, password: str) -> bool:
    """Whether `password` is the one the broker holds for `user` (GET /api/users/NAME):
    RabbitMQ's hash is base64(salt + H(salt + password)), salt 4 bytes, H its algorithm."""
    algorithm = {"rabbit_password_hashing_sha256": hashlib.sha256,
                 "rabbit_password_hashing_sha512": hashlib.sha512}.get(user.get("hashing_algorithm"))
    if algorithm is None or not user.get("password_hash"):
        return False
    raw = base64.b64decode(user["password_hash"])
    salt, digest = raw[:4], raw[4:]
    return hmac.compare_digest(algorithm(salt + password.encode("utf-8")).digest(), digest)


def _q(text: str) -> str:
    return quote(text, safe="")


def user_name(prefix: str, role: Role) -> str:
    return f"{prefix}-{role.name}"


def read_credentials(path: Path) -> dict:
    if not path.exists():
        return {"vhost": None, "users": {}}
    from .credentials import read_file
    return read_file(path)


def write_credentials(path: Path, data: dict) -> None:
    """Written whole to a file of mode 0600 next to it, then moved over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, sort_keys=True)
        fh.write("\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _ensure_user(api: Management, name: str, role: Role, known: str | None, rotate: bool) -> tuple[str, str]:
    """(password, what was done) for one user."""
    existing = api.call("GET", f"/users/{_q(name)}", ok404=True)
    if existing is None or rotate:
        password = secrets.token_urlsafe(24)
        api.call("PUT", f"/users/{_q(name)}", {"password": password, "tags": role.tags})
        return password, "created" if existing is None else "rotated"
    if known is None or not password_matches(existing, known):
        raise ManagementError(f"broker user {name} exists but the credentials file has no working password "
                              "for it: run again with --rotate to give it a new one")
    tags = existing.get("tags")
    tags = ",".join(tags) if isinstance(tags, list) else (tags or "")
    if sorted(filter(None, tags.split(","))) != sorted(filter(None, role.tags.split(","))):
        api.call("PUT", f"/users/{_q(name)}", {"password_hash": existing["password_hash"],
                                               "hashing_algorithm": existing.get("hashing_algorithm"),
                                               "tags": role.tags})
        return known, "tags set"
    return known, "unchanged"


def _ensure_permissions(api: Management, vhost: str, name: str, role: Role) -> bool:
    """True when something had to be set."""
    changed = False
    path = f"/permissions/{_q(vhost)}/{_q(name)}"
    have = api.call("GET", path, ok404=True) or {}
    if {k: have.get(k) for k in ("configure", "write", "read")} != role.permissions():
        api.call("PUT", path, role.permissions())
        changed = True
    tpath = f"/topic-permissions/{_q(vhost)}/{_q(name)}"
    have_topics = {t["exchange"]: (t["write"], t["read"]) for t in (api.call("GET", tpath, ok404=True) or [])}
    want_topics = {ex: (w, r) for ex, w, r in role.topics}
    for exchange, (write, read) in want_topics.items():
        if have_topics.get(exchange) != (write, read):
            api.call("PUT", tpath, {"exchange": exchange, "write": write, "read": read})
            changed = True
    if set(have_topics) - set(want_topics):
        # topic permissions are cleared per user and vhost, all at once
        api.call("DELETE", tpath)
        for exchange, (write, read) in want_topics.items():
            api.call("PUT", tpath, {"exchange": exchange, "write": write, "read": read})
        changed = True
    return changed


def provision(api: Management, vhost: str, roles: list[Role], credentials: Path, prefix: str = "tongban",
              rotate: bool = False) -> list[dict]:
    """Make the vhost, each role's user, its permissions and tags; write the credentials file.
    Returns one line per thing looked at: {"what", "name", "action"} (no passwords)."""
    report = []
    if api.call("GET", f"/vhosts/{_q(vhost)}", ok404=True) is None:
        api.call("PUT", f"/vhosts/{_q(vhost)}", {})
        report.append({"what": "vhost", "name": vhost, "action": "created"})
    else:
        report.append({"what": "vhost", "name": vhost, "action": "unchanged"})
    data = read_credentials(credentials)
    before = json.dumps(data, sort_keys=True)
    users = data.setdefault("users", {})
    data["vhost"] = vhost
    for role in roles:
        name = user_name(prefix, role)
        entry = users.get(role.name) or {}
        known = entry.get("password") if entry.get("user") == name else None
        password, action = _ensure_user(api, name, role, known, rotate)
        users[role.name] = {"user": name, "password": password}
        if _ensure_permissions(api, vhost, name, role) and action == "unchanged":
            action = "permissions set"
        report.append({"what": "user", "name": name, "role": role.name, "tags": role.tags, "action": action,
                       **role.permissions()})
    if json.dumps(data, sort_keys=True) != before or not credentials.exists():
        write_credentials(credentials, data)
    return report


def remove(api: Management, credentials: Path, delete_vhost: bool = False) -> list[dict]:
    """Delete the users the credentials file names (and the vhost); then the file."""
    data = read_credentials(credentials)
    report = []
    for role, entry in sorted((data.get("users") or {}).items()):
        api.call("DELETE", f"/users/{_q(entry['user'])}", ok404=True)
        report.append({"what": "user", "name": entry["user"], "role": role, "action": "deleted"})
    if delete_vhost and data.get("vhost") and data["vhost"] != "/":
        api.call("DELETE", f"/vhosts/{_q(data['vhost'])}", ok404=True)
        report.append({"what": "vhost", "name": data["vhost"], "action": "deleted"})
    if credentials.exists():
        credentials.unlink()
    return report
