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

"""gunicorn settings for orionx-cyborg-attach (``-c python:`` this module).

::

    ORIONX_CYBORG_ATTACH_CONFIG=/etc/orionx-cyborg/orionx-cyborg-attach.conf \
    gunicorn -c python:orionx_cyborg.attach.gunicorn_conf \
        --bind 0.0.0.0:9780 --workers 4 \
        'orionx_cyborg.attach.wsgi:init_application()'

Command-line flags override what is set here. Workers are ``gthread``
workers: a request waiting for a slow Cyborg holds one thread, not the
worker, and the others keep answering. Each worker builds the service
after the fork (its own ledger engine, clients and reconcile thread; the
leader lock lets one pass run at a time).

Metrics of all workers add up through prometheus_client's multiprocess
mode: the master gives the run a fresh directory in
``$PROMETHEUS_MULTIPROC_DIR`` (creating a temporary one when it is
unset, removed at exit; an existing one is emptied, since files of an
earlier run would be counted again), and a worker's files are marked
dead when it exits.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

MULTIPROC_ENV = 'PROMETHEUS_MULTIPROC_DIR'

worker_class = 'gthread'
workers = int(os.environ.get('ORIONX_ATTACH_WORKERS', '4'))
threads = int(os.environ.get('ORIONX_ATTACH_THREADS', '16'))
#: Connections queued before accept: bursts of vendordata requests
#: (Nova asks for every instance it boots) must not be reset.
backlog = 2048
#: Seconds a worker may not report to the master before it is restarted
#: (a gthread worker reports between requests, not per request).
timeout = 120
graceful_timeout = 30
keepalive = 5

_created_dir: str | None = None


def on_starting(server: Any) -> None:
    """In the master, before any worker: a clean metrics directory."""
    global _created_dir
    directory = os.environ.get(MULTIPROC_ENV)
    if directory:
        os.makedirs(directory, exist_ok=True)
        for name in os.listdir(directory):
            if name.endswith('.db'):
                os.unlink(os.path.join(directory, name))
    else:
        directory = tempfile.mkdtemp(prefix='orionx-attach-metrics-')
        _created_dir = directory
        os.environ[MULTIPROC_ENV] = directory


def child_exit(server: Any, worker: Any) -> None:
    """A worker's live gauges leave with it."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    if _created_dir:
        shutil.rmtree(_created_dir, ignore_errors=True)
