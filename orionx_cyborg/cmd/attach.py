# Copyright (c) 2026 orionx-cyborg developers
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""``orionx-cyborg-attach`` and ``orionx-cyborg-attach-dbsync``."""

from __future__ import annotations

import argparse
import socketserver
import sys
from collections.abc import Sequence
from typing import Any
from wsgiref import simple_server

from oslo_log import log as logging

from orionx_cyborg import exception
from orionx_cyborg.attach import app as app_mod

LOG = logging.getLogger(__name__)
PROG = app_mod.PROG


class _ThreadingServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def _server_class(backlog: int) -> type[_ThreadingServer]:
    """The server, listening with *backlog* (socketserver's is 5)."""
    return type(
        '_ThreadingServer',
        (_ThreadingServer,),
        {'request_queue_size': backlog},
    )


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug('%s %s', self.address_string(), format % args)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve the API and run the periodic reconcile passes.

    For production, run the WSGI application under gunicorn with several
    workers instead (:mod:`orionx_cyborg.attach.gunicorn_conf`); this
    server is one process, for small deployments and the sandbox.
    """
    conf = app_mod.load_conf(sys.argv[1:] if argv is None else argv)
    logging.setup(conf, PROG)
    try:
        components = app_mod.build(conf)
    except exception.OrionXException as err:
        LOG.error('%s cannot start: %s', PROG, err)
        return 2
    components.warm_up()
    passes = app_mod.PeriodicPasses(components)
    if conf.orionx_attach.reconcile_interval > 0:
        passes.start()
    group = conf.orionx_attach
    server = simple_server.make_server(
        group.bind_host,
        group.bind_port,
        components.application,
        server_class=_server_class(group.listen_backlog),
        handler_class=_QuietHandler,
    )
    LOG.info(
        '%s listening on %s:%d',
        PROG,
        group.bind_host,
        server.server_address[1],
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        passes.stop()
        server.server_close()
        components.close()
    return 0


def dbsync(argv: Sequence[str] | None = None) -> int:
    """``orionx-cyborg-attach-dbsync``: migrate the lease ledger.

    The database comes from ``[database] connection`` of the
    service's configuration files (``--config-file``), unless
    ``--database-url`` is given.
    """
    from orionx_cyborg.attach.ledger import dbsync as ledger_dbsync

    args = list(sys.argv[1:] if argv is None else argv)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument('--config-file', action='append', default=[])
    pre.add_argument('--config-dir', action='append', default=[])
    known, rest = pre.parse_known_args(args)
    if (
        '--database-url' not in rest
        and not any(a.startswith('--database-url=') for a in rest)
        and ('-h' not in rest and '--help' not in rest)
    ):
        files = []
        for path in known.config_file:
            files += ['--config-file', path]
        for path in known.config_dir:
            files += ['--config-dir', path]
        conf = app_mod.load_conf(files, prog='orionx-cyborg-attach-dbsync')
        rest = ['--database-url', app_mod.database_url(conf)] + rest
    return ledger_dbsync.main(rest)


def server_key(argv: Sequence[str] | None = None) -> int:
    """``orionx-cyborg-attach-server-key HOST``: a GPU server's key.

    Prints, in hex, the key the GPU server *HOST* verifies lease tokens
    with (derived from ``[orionx_attach] secret_key``); give it to that
    server only.
    """
    from orionx_cyborg.attach import leasetokens

    parser = argparse.ArgumentParser(
        prog='orionx-cyborg-attach-server-key',
        description=server_key.__doc__,
    )
    parser.add_argument('--config-file', action='append', default=[])
    parser.add_argument('--config-dir', action='append', default=[])
    parser.add_argument('host', help='The GPU server (Cyborg host name).')
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    files = []
    for path in args.config_file:
        files += ['--config-file', path]
    for path in args.config_dir:
        files += ['--config-dir', path]
    conf = app_mod.load_conf(files, prog='orionx-cyborg-attach-server-key')
    key = conf.orionx_attach.secret_key
    if not key:
        sys.stderr.write(
            'orionx-cyborg-attach-server-key: [orionx_attach] secret_key '
            'is unset in the configuration files.\n'
        )
        return 2
    sys.stdout.write(leasetokens.server_key(key, args.host).hex() + '\n')
    return 0
