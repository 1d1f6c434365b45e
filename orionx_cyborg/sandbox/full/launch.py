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

"""Run one service process of the full sandbox.

``python -m orionx_cyborg.sandbox.full.launch ENTRY [ARG ...]`` makes
SQLite transactions start with ``BEGIN IMMEDIATE`` (see
:func:`queue_sqlite_writers`), sets ``sys.argv`` to ``[ENTRY, ARG ...]``
and calls ``ENTRY``: a console script's ``module:function`` (e.g.
``nova.cmd.conductor:main``, ``gunicorn.app.wsgiapp:run``);
``--no-fork`` before ENTRY runs an oslo.service service in this process
(:func:`run_services_in_process`).
``python -m orionx_cyborg.sandbox.full.launch --exec PROGRAM [ARG ...]``
replaces itself with a program that is no Python (RabbitMQ), so the
recorded PID is the program's.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from orionx_cyborg.sandbox import lifecycle

#: ``launch --no-fork ENTRY ...``: see :func:`run_services_in_process`.
NO_FORK = '--no-fork'


def _begin_immediate(
    conn: Any,
    cursor: Any,
    statement: str,
    parameters: Any,
    context: Any,
    executemany: bool,
) -> tuple[str, Any]:
    if statement == 'BEGIN' and conn.dialect.name == 'sqlite':
        return 'BEGIN IMMEDIATE', parameters
    return statement, parameters


def queue_sqlite_writers() -> None:
    """Open every SQLite transaction with ``BEGIN IMMEDIATE``.

    oslo.db turns pysqlite's own transaction handling off and emits a
    plain (deferred) ``BEGIN``. A deferred transaction that reads, then
    writes, while another process writes fails at once with "database is
    locked": SQLite cannot upgrade its lock, and the busy timeout does
    not apply. An immediate transaction takes the write lock first, so
    concurrent writers wait for each other (up to the URL's
    ``timeout``), as they would on a database server. Production
    services never run on SQLite; the sandbox does.
    """
    import sqlalchemy
    from sqlalchemy import engine as sa_engine

    sqlalchemy.event.listen(
        sa_engine.Engine,
        'before_cursor_execute',
        _begin_immediate,
        retval=True,
    )


def run_services_in_process() -> bool:
    """Make oslo.service run a launched service in this process.

    With one worker, oslo.service's threading backend runs the service in
    a forked child, which doubles the process's resident memory (the
    child's copy-on-write pages count again in its RSS) for nothing a
    sandbox needs; ``nova-compute`` already asks for ``no_fork``. Done
    only once the entry's module has imported ``oslo_service.service``
    (and so chosen its backend): importing it first would choose one for
    the service. :returns: whether it was done.
    """
    service: Any = sys.modules.get('oslo_service.service')
    if service is None:
        return False
    launch = service.launch

    def in_process(*args: Any, **kwargs: Any) -> Any:
        kwargs['no_fork'] = True
        return launch(*args, **kwargs)

    service.launch = in_process
    return True


def call_entry(entry: str, in_process: bool = False) -> Any:
    module, _, attribute = entry.partition(':')
    function = getattr(importlib.import_module(module), attribute)
    if in_process:
        run_services_in_process()
    return function()


def main(argv: list[str]) -> int:
    if not argv:
        print('usage: launch ENTRY [ARG ...] | --exec PROGRAM [ARG ...]')
        return 2
    if argv[0] == '--exec':
        os.execv(argv[1], argv[1:])  # noqa: S606 - the sandbox's own
    in_process = argv[0] == NO_FORK
    if in_process:
        argv = argv[1:]
    lifecycle.exit_with_parent()
    queue_sqlite_writers()
    sys.argv = list(argv)
    result = call_entry(argv[0], in_process)
    return result if isinstance(result, int) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
