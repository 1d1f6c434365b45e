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
``nova.cmd.conductor:main``, ``gunicorn.app.wsgiapp:run``).
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


def call_entry(entry: str) -> Any:
    module, _, attribute = entry.partition(':')
    function = getattr(importlib.import_module(module), attribute)
    return function()


def main(argv: list[str]) -> int:
    if not argv:
        print('usage: launch ENTRY [ARG ...] | --exec PROGRAM [ARG ...]')
        return 2
    if argv[0] == '--exec':
        os.execv(argv[1], argv[1:])  # noqa: S606 - the sandbox's own
    lifecycle.exit_with_parent()
    queue_sqlite_writers()
    sys.argv = list(argv)
    result = call_entry(argv[0])
    return result if isinstance(result, int) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
