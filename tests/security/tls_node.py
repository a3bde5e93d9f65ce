"""A RabbitMQ node of its own with a TLS listener, for the amqps tests: the node of
tests/cluster/cluster_nodes.py (own name, ports, data directory, no plugins), its
configuration given an ssl listener with the test CA's certificates, verify_peer and,
when asked, fail_if_no_peer_cert. Stopped and deleted on the way out."""
from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import uuid
from contextlib import contextmanager

from tests.cluster.cluster_nodes import Node, available
from tests.ports import free_port

_seq = itertools.count()


@contextmanager
def tls_node(pki, require_client_cert: bool = True):
    """Yields (node, ssl_port, vhost): guest may use the vhost (the tests' own set-up)."""
    reason = available()
    if reason:
        raise RuntimeError(reason)
    workdir = tempfile.mkdtemp(prefix=f"tbtls{os.getpid()}n{next(_seq)}-")
    node = Node(f"tbtls{os.getpid()}n{next(_seq)}@localhost", workdir)
    ssl_port = free_port()
    with open(os.path.join(workdir, "rabbitmq.conf"), "w") as fh:
        fh.write(f"listeners.tcp.default = 127.0.0.1:{node.port}\n"
                 f"listeners.ssl.default = 127.0.0.1:{ssl_port}\n"
                 f"ssl_options.cacertfile = {pki.ca}\n"
                 f"ssl_options.certfile = {pki.server_cert}\n"
                 f"ssl_options.keyfile = {pki.server_key}\n"
                 "ssl_options.verify = verify_peer\n"
                 f"ssl_options.fail_if_no_peer_cert = {'true' if require_client_cert else 'false'}\n"
                 "loopback_users = none\n")
    subprocess.run(["chown", "-R", "rabbitmq:rabbitmq", workdir, str(pki.ca.parent)], check=False,
                   capture_output=True)
    os.chmod(pki.ca.parent, 0o755)
    try:
        node.boot()
        vhost = f"tongban-tls-{uuid.uuid4().hex[:8]}"
        node.ctl("add_vhost", vhost)
        node.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield node, ssl_port, vhost
    finally:
        node.halt()
        shutil.rmtree(workdir, ignore_errors=True)
