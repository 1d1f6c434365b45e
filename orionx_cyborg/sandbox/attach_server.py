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

"""Process entry point: ``orionx-cyborg-attach`` beside the sandbox.

``python -m orionx_cyborg.sandbox.attach_server STATE_DIR`` does what an
operator's unit would: ``orionx-cyborg-attach-dbsync upgrade``, then
``orionx-cyborg-attach``, both with the generated ``attach/attach.conf``
(no-auth API on the manifest's port, the SQLite ledger in the state
directory unless the configuration names another database). The
service prints no ``READY`` line of its own: the orchestrator waits until
``GET /healthz`` answers 200, which also proves the ledger is readable.

With ``$ORIONX_SANDBOX_ATTACH_WORKERS`` set to a number of workers, the
service runs as operators run it: the WSGI application under gunicorn
with that many workers (:mod:`orionx_cyborg.attach.gunicorn_conf`),
metrics in multiprocess mode in the state directory.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Callable

from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import lifecycle

WORKERS_ENV = 'ORIONX_SANDBOX_ATTACH_WORKERS'


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print('usage: attach_server STATE_DIR', file=sys.stderr)
        return 2
    conf = str(layout.StateLayout(args[0]).attach_conf)
    lifecycle.exit_with_parent()
    workers = int(os.environ.get(WORKERS_ENV) or 0)
    if workers > 0:
        # Before anything imports prometheus_client.
        os.environ['PROMETHEUS_MULTIPROC_DIR'] = str(
            layout.StateLayout(args[0]).attach_dir / 'metrics'
        )
    # The real commands, loaded as their console scripts are.
    status = console_script('orionx-cyborg-attach-dbsync')(
        ['--config-file', conf, 'upgrade']
    )
    if status:
        return status
    if workers > 0:
        return _gunicorn(conf, workers)
    return console_script('orionx-cyborg-attach')(['--config-file', conf])


def _gunicorn(conf: str, workers: int) -> int:
    """Serve under gunicorn as the install guide does; never returns."""
    from gunicorn.app import wsgiapp

    from orionx_cyborg.attach import app as app_mod
    from orionx_cyborg.attach import wsgi

    group = app_mod.load_conf(['--config-file', conf]).orionx_attach
    os.environ[wsgi.CONFIG_ENVIRONMENT] = conf
    sys.argv = [
        'gunicorn',
        '-c',
        'python:orionx_cyborg.attach.gunicorn_conf',
        '--bind',
        '%s:%d' % (group.bind_host, group.bind_port),
        '--workers',
        str(workers),
        'orionx_cyborg.attach.wsgi:init_application()',
    ]
    wsgiapp.WSGIApplication('%(prog)s [OPTIONS] [APP_MODULE]').run()
    return 0


def console_script(name: str) -> Callable[[list[str]], int]:
    """The function console script *name* of this package runs."""
    (entry_point,) = importlib.metadata.entry_points(
        group='console_scripts', name=name
    )
    function: Callable[[list[str]], int] = entry_point.load()
    return function


if __name__ == '__main__':
    sys.exit(main())
