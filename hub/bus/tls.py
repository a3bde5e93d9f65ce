"""AMQP over TLS: the broker URL's TLS options, turned into what kombu hands py-amqp.

The options travel in the broker URL's query, so every place that passes a broker URL
along (the loops, the worker processes, the CLI) carries them without a second argument:

    amqps://user@broker.city.gov.cn:5671/tongban?cafile=/etc/tongban/ca.pem
        &certfile=/etc/tongban/hub.pem&keyfile=/etc/tongban/hub.key&verify=peer

`verify=peer` (the default) checks the broker's certificate against `cafile` (or the
system's CAs) and its name against the host (`server_hostname=` when the certificate
names another); `verify=none` turns both off and has to be written out. A client
certificate (`certfile`, `keyfile`) is what a broker with fail_if_no_peer_cert asks for.
`broker.tls` in config/hub.yaml gives the same options for every URL the hub builds
(hub/bus/credentials.py)."""
from __future__ import annotations

import ssl
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

OPTIONS = ("cafile", "certfile", "keyfile", "verify", "server_hostname")
VERIFY = ("peer", "none")


class BrokerTLSError(ConnectionError):
    """The TLS handshake with the broker failed; the message says why and with which options."""


def _split_one(part: str) -> tuple[str, dict]:
    parts = urlsplit(part)
    query = parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in query if k in OPTIONS}
    rest = [(k, v) for k, v in query if k not in OPTIONS]
    return urlunsplit(parts._replace(query=urlencode(rest))), ours


def split(url: str) -> tuple[str, dict | bool]:
    """(the URL without the TLS options, kombu's `ssl` argument). For a failover list the
    options of its parts are merged (kombu has one `ssl` for all); False for plain amqp."""
    cleaned, options, tls = [], {}, False
    for part in url.split(";"):
        clean, ours = _split_one(part)
        cleaned.append(clean)
        options.update(ours)
        tls = tls or urlsplit(part).scheme == "amqps"
    if options and not tls:
        raise ValueError(f"broker URL: TLS options ({', '.join(sorted(options))}) need the amqps:// scheme")
    return ";".join(cleaned), (ssl_options(options) if tls else False)


def ssl_options(options: dict) -> dict:
    """kombu/py-amqp `ssl` keywords (amqp.transport.SSLTransport._wrap_socket_sni)."""
    verify = options.get("verify") or "peer"
    if verify not in VERIFY:
        raise ValueError(f"broker URL: verify must be one of {', '.join(VERIFY)}, got {verify!r}")
    out: dict = {"cert_reqs": ssl.CERT_REQUIRED if verify == "peer" else ssl.CERT_NONE,
                 "tls_minimum_version": ssl.TLSVersion.TLSv1_2}
    if options.get("cafile"):
        out["ca_certs"] = options["cafile"]
    if options.get("certfile"):
        out["certfile"] = options["certfile"]
        out["keyfile"] = options.get("keyfile") or None
    if verify == "peer":
        # the name to check; None makes kombu fill in the URL's host. Without the key
        # (verify=none) py-amqp leaves check_hostname off.
        out["server_hostname"] = options.get("server_hostname") or None
    return out


def with_options(url: str, tls: dict | None) -> str:
    """`url` with the settings' broker.tls options added to each part that has none of its own."""
    if not tls:
        return url
    extra = {k: str(v) for k, v in tls.items() if k in OPTIONS and v not in (None, "")}
    unknown = sorted(set(tls) - set(OPTIONS) - {"enabled"})
    if unknown:
        raise ValueError(f"broker.tls: unknown option(s) {', '.join(unknown)} (known: {', '.join(OPTIONS)})")
    if tls.get("enabled") is False or not extra:
        return url
    out = []
    for part in url.split(";"):
        parts = urlsplit(part)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if not any(k in OPTIONS for k, _ in query):
            query += list(extra.items())
        out.append(urlunsplit(parts._replace(query=urlencode(query))))
    return ";".join(out)


def explain(exc: BaseException, url: str, options: dict | bool) -> BrokerTLSError | None:
    """A BrokerTLSError saying what failed, when `exc` (or what caused it) is a TLS error."""
    cause, seen = exc, 0
    while cause is not None and not isinstance(cause, ssl.SSLError) and seen < 5:
        cause, seen = cause.__cause__ or cause.__context__, seen + 1
    if not isinstance(cause, ssl.SSLError):
        return None
    where = urlsplit(url.split(";")[0])
    opts = options if isinstance(options, dict) else {}
    if isinstance(cause, ssl.SSLCertVerificationError):
        reason = f"certificate verify failed: {cause.verify_message} (is cafile the CA that signed the broker's?)"
    else:
        reason = getattr(cause, "reason", None) or str(cause)
        if not opts.get("certfile") and (isinstance(cause, ssl.SSLEOFError) or "CERTIFICATE_REQUIRED" in reason):
            # the broker closes the handshake (with or without an alert, depending on timing)
            reason += "; the broker may require a client certificate: give certfile and keyfile"
    return BrokerTLSError(
        f"TLS to the broker at {where.hostname}:{where.port or 5671} failed: {reason} "
        f"(cafile={opts.get('ca_certs') or 'system CAs'}, "
        f"verify={'peer' if opts.get('cert_reqs') == ssl.CERT_REQUIRED else 'none'}, "
        f"client certificate={'yes' if opts.get('certfile') else 'no'})")
