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

"""Engines for the ledger: SQLite by default, MySQL/PostgreSQL by URL.

SQLite gets WAL (readers never block the writer), a busy timeout (writers
wait for each other instead of failing at once) and foreign keys, set on
every new connection. pysqlite's own transaction handling is turned off and
the ledger emits ``BEGIN`` itself: ``BEGIN IMMEDIATE`` on connections for
writing, so that a writer takes the write lock before it reads and never
fails later on upgrading a read snapshot (an error the busy timeout does
not cover), and a deferred ``BEGIN`` for readers.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import pool

#: Execution option that marks a connection as used for writing.
WRITE_OPTION = 'orionx_ledger_write'

DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 30_000


def create_engine(
    url: str | sa.URL,
    *,
    sqlite_busy_timeout_ms: int = DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
    **options: Any,
) -> sa.Engine:
    """An engine for *url*, with the ledger's settings for its backend.

    *options* go to :func:`sqlalchemy.create_engine` and win over the
    defaults chosen here.
    """
    url = sa.make_url(url)
    if url.get_backend_name() != 'sqlite':
        # Servers close idle connections (MySQL's wait_timeout).
        options.setdefault('pool_pre_ping', True)
        return sa.create_engine(url, **options)
    in_memory = url.database in (None, '', ':memory:')
    if in_memory:
        # One shared connection, or each thread would see its own database.
        options.setdefault('poolclass', pool.StaticPool)
        connect_args = dict(options.get('connect_args', {}))
        connect_args.setdefault('check_same_thread', False)
        options['connect_args'] = connect_args
    engine = sa.create_engine(url, **options)
    install_sqlite_settings(
        engine, busy_timeout_ms=sqlite_busy_timeout_ms, wal=not in_memory
    )
    return engine


def install_sqlite_settings(
    engine: sa.Engine, *, busy_timeout_ms: int, wal: bool = True
) -> None:
    """Set the connection and transaction events of a SQLite engine."""

    @event.listens_for(engine, 'connect')
    def _configure(
        dbapi_connection: sqlite3.Connection, connection_record: Any
    ) -> None:
        # The ledger emits BEGIN itself (see _begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute('PRAGMA journal_mode=WAL')
            cursor.execute('PRAGMA busy_timeout=%d' % busy_timeout_ms)
            cursor.execute('PRAGMA foreign_keys=ON')
        finally:
            cursor.close()

    @event.listens_for(engine, 'begin')
    def _begin(connection: sa.Connection) -> None:
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql('BEGIN IMMEDIATE')
        else:
            connection.exec_driver_sql('BEGIN')


def for_writing(engine: sa.Engine) -> sa.Engine:
    """*engine* marked for writing; it shares the connection pool."""
    return engine.execution_options(**{WRITE_OPTION: True})
