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

"""Fixtures of the ledger tests: each test runs on SQLite and PostgreSQL.

The PostgreSQL variants use ``$ORIONX_TEST_POSTGRES_URL`` or a private
cluster started once per session (see :mod:`.postgres`); they are skipped,
with the reason, when neither is available.

``database_url`` and ``empty_ledger`` give an empty database, for the
tests of migrations. ``ledger`` gives one at head with no rows; the schema
is migrated once per session (a SQLite file copied for each test, a
PostgreSQL schema emptied before each test), which keeps the suite fast.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import shutil
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from orionx_cyborg.attach.ledger import Ledger
from tests.unit.attach.ledger import postgres

BACKENDS = ('sqlite', 'postgresql')
REQUIRE_ENVIRONMENT = 'ORIONX_REQUIRE_POSTGRES'
EPOCH = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: datetime.datetime = EPOCH) -> None:
        self.now = now

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> datetime.datetime:
        self.now += datetime.timedelta(seconds=seconds)
        return self.now


@pytest.fixture(scope='session')
def postgres_server() -> Iterator[postgres.Server]:
    try:
        server, cluster = postgres.start()
    except postgres.Unavailable as exc:
        # CI installs PostgreSQL: there, a missing server is a failure,
        # not a reason to skip half of the ledger tests.
        if os.environ.get(REQUIRE_ENVIRONMENT):
            pytest.fail(
                'PostgreSQL is required (%s): %s' % (REQUIRE_ENVIRONMENT, exc)
            )
        pytest.skip('PostgreSQL variant skipped: %s' % exc)
    try:
        yield server
    finally:
        server.close()
        if cluster is not None:
            cluster.stop()


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of an empty database on each backend."""
    if request.param == 'sqlite':
        directory = tmp_path_factory.mktemp('ledger')
        yield 'sqlite:///%s' % (directory / 'ledger.sqlite')
        return
    server = request.getfixturevalue('postgres_server')
    with server.schema() as url:
        yield url


@pytest.fixture(scope='session')
def sqlite_at_head(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """A SQLite file migrated to head, to copy."""
    path = tmp_path_factory.mktemp('ledger-at-head') / 'ledger.sqlite'
    with Ledger.from_url('sqlite:///%s' % path) as ledger:
        ledger.upgrade()
    return path


@pytest.fixture(scope='session')
def postgres_at_head(postgres_server: postgres.Server) -> Iterator[str]:
    """A PostgreSQL schema migrated to head, shared by the tests."""
    with postgres_server.schema() as url:
        with Ledger.from_url(url) as ledger:
            ledger.upgrade()
        yield url


@pytest.fixture(params=BACKENDS)
def ledger_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The URL of a database at head, with no rows."""
    if request.param == 'sqlite':
        path = tmp_path_factory.mktemp('ledger') / 'ledger.sqlite'
        shutil.copyfile(request.getfixturevalue('sqlite_at_head'), path)
        return 'sqlite:///%s' % path
    url: str = request.getfixturevalue('postgres_at_head')
    _empty(url)
    return url


def _empty(url: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql('DELETE FROM leases')
            connection.exec_driver_sql('DELETE FROM lease_events')
            connection.exec_driver_sql('UPDATE ledger_counters SET value = 0')
    finally:
        engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def empty_ledger(database_url: str, clock: FakeClock) -> Iterator[Ledger]:
    """A ledger on an empty database: no schema yet."""
    ledger = Ledger.from_url(database_url, clock=clock)
    try:
        yield ledger
    finally:
        ledger.close()


@pytest.fixture
def ledger(ledger_url: str, clock: FakeClock) -> Iterator[Ledger]:
    """A ledger at head with no leases and no events."""
    ledger = Ledger.from_url(ledger_url, clock=clock)
    try:
        yield ledger
    finally:
        ledger.close()
