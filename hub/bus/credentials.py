"""Which broker user each part of the hub connects as.

Without provisioning (nothing below configured) every connection uses the broker URL as
it is, as it always did. After `tongban broker provision` (hub/bus/provision.py) each
kind of worker has a user of its own, with only the permissions it needs; a role's
credentials come from, first:

    TONGBAN_AMQP_USER_<ROLE> and TONGBAN_AMQP_PASSWORD_<ROLE>   (ROLE: SOURCE_COMMERCE, DELIVER_PLATFORM, ...)
    broker.credentials_file (JSON written by provision, mode 0600)

and are put into the broker URL in place of its user and password. They are never
logged: an error names the role and where it looked, not what it found."""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from . import tls

ENV_USER = "TONGBAN_AMQP_USER_"
ENV_PASSWORD = "TONGBAN_AMQP_PASSWORD_"

# The roles, as `tongban run`, the console and the operator's commands use them.
OPERATOR = "operator"     # declares the topology; replay, purge, partitions set
RECORDER = "recorder"     # reads tongban.dead and tongban.unrouted into the store
COMPARE = "compare"       # reads tongban.compare (dual-track)
CONSOLE = "console"       # reads: the console, `tongban status`, /metrics, /readyz


def source(adapter: str) -> str:
    return f"source.{adapter}"


def deliver(destination: str) -> str:
    return f"deliver.{destination}"


class BrokerCredentialsError(ValueError):
    """A role's credentials were asked for and are not where the settings say."""


def env_key(role: str) -> str:
    """deliver.commerce.new -> DELIVER_COMMERCE_NEW"""
    return re.sub(r"[^A-Z0-9]", "_", role.upper())


def credentials_file(settings: dict) -> Path | None:
    name = ((settings.get("broker") or {}).get("credentials_file") or "").strip()
    if not name:
        return None
    from hub.config import ROOT
    path = Path(name)
    return path if path.is_absolute() else ROOT / path


def configured(settings: dict, environ: dict | None = None) -> bool:
    """Whether roles are in use at all (else every connection uses the URL as it is)."""
    env = os.environ if environ is None else environ
    return credentials_file(settings) is not None or any(k.startswith(ENV_USER) for k in env)


def read_file(path: Path) -> dict:
    if not path.exists():
        raise BrokerCredentialsError(f"broker.credentials_file {path} does not exist: "
                                     "run `tongban broker provision` or unset it")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise BrokerCredentialsError(f"broker.credentials_file {path} is readable by others "
                                     f"(mode {mode:o}): chmod 600 it")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BrokerCredentialsError(f"broker.credentials_file {path} is not JSON: {exc.msg} "
                                     f"at line {exc.lineno}") from None
    if not isinstance(data, dict) or not isinstance(data.get("users"), dict):
        raise BrokerCredentialsError(f"broker.credentials_file {path}: no 'users' object")
    return data


def role_credentials(settings: dict, role: str, environ: dict | None = None) -> tuple[str, str] | None:
    """(user, password) of `role`, or None when roles are not in use."""
    env = os.environ if environ is None else environ
    key = env_key(role)
    if env.get(ENV_USER + key):
        if not env.get(ENV_PASSWORD + key):
            raise BrokerCredentialsError(f"{ENV_USER + key} is set but {ENV_PASSWORD + key} is not")
        return env[ENV_USER + key], env[ENV_PASSWORD + key]
    path = credentials_file(settings)
    if path is None:
        if configured(settings, env):
            raise BrokerCredentialsError(f"no broker user for role {role}: set {ENV_USER + key} and "
                                         f"{ENV_PASSWORD + key}, or broker.credentials_file")
        return None
    entry = read_file(path)["users"].get(role)
    if not isinstance(entry, dict) or not entry.get("user") or not entry.get("password"):
        raise BrokerCredentialsError(f"broker.credentials_file {path} has no user for role {role}: "
                                     "run `tongban broker provision` again (the settings name a new "
                                     "destination or adapter?)")
    return entry["user"], entry["password"]


def with_user(url: str, user: str, password: str) -> str:
    """`url` (each part of a failover list) with this user and password instead of its own."""
    out = []
    for part in url.split(";"):
        parts = urlsplit(part)
        host = parts.hostname or "127.0.0.1"
        host = f"[{host}]" if ":" in host else host
        netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}" + (
            f":{parts.port}" if parts.port else "")
        out.append(urlunsplit(parts._replace(netloc=netloc)))
    return ";".join(out)


def url_for(settings: dict, role: str, environ: dict | None = None) -> str:
    """The broker URL `role` connects with: the settings' URL, with broker.tls's options and,
    when roles are in use, the role's user. Unconfigured, exactly settings["broker_url"]."""
    url = tls.with_options(settings["broker_url"], (settings.get("broker") or {}).get("tls"))
    found = role_credentials(settings, role, environ)
    return with_user(url, *found) if found else url


def masked(url: str) -> str:
    """A broker URL fit for a log line or a page: no password."""
    return ";".join(urlunsplit(p._replace(netloc=(f"{p.username}:***@" if p.username else "") +
                                          (p.hostname or "") + (f":{p.port}" if p.port else "")))
                    for p in map(urlsplit, url.split(";")))
