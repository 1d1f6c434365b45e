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

"""Engines: the SQLite settings and the ledger's use of them."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from orionx_cyborg import exception
from orionx_cyborg.attach import ledger as ledger_api
from orionx_cyborg.attach.ledger import InvalidArgument
from orionx_cyborg.attach.ledger import Ledger
from orionx_cyborg.attach.ledger import LedgerUnavailable
from orionx_cyborg.attach.ledger import engine as ledger_engine
from tests.unit.attach.ledger import builders


def pragma(engine, name):
    with engine.connect() as connection:
        return connection.exec_driver_sql('PRAGMA %s' % name).scalar()


@pytest.fixture
def sqlite_path(tmp_path):
    return tmp_path / 'ledger.sqlite'


class TestSqlite:
    def test_connections_use_wal_a_busy_timeout_and_foreign_keys(
        self, sqlite_path
    ):
        engine = ledger_engine.create_engine(
            'sqlite:///%s' % sqlite_path, sqlite_busy_timeout_ms=1234
        )
        try:
            assert pragma(engine, 'journal_mode') == 'wal'
            assert pragma(engine, 'busy_timeout') == 1234
            assert pragma(engine, 'foreign_keys') == 1
        finally:
            engine.dispose()

    def test_a_writer_waits_for_another_writer(self, sqlite_path):
        ledger = Ledger.from_url('sqlite:///%s' % sqlite_path)
        ledger.upgrade()
        # Another process holds the write lock for a while.
        other = sqlite3.connect(
            sqlite_path, isolation_level=None, check_same_thread=False
        )
        other.execute('BEGIN IMMEDIATE')
        released = threading.Timer(0.3, other.execute, args=('COMMIT',))
        released.start()
        try:
            started = time.monotonic()
            lease = ledger.create(builders.new_lease())
            assert time.monotonic() - started >= 0.2
            assert ledger.get(lease.id) == lease
        finally:
            released.join()
            other.close()
            ledger.close()

    def test_a_writer_gives_up_after_the_busy_timeout(self, sqlite_path):
        ledger = Ledger.from_url(
            'sqlite:///%s' % sqlite_path, sqlite_busy_timeout_ms=50
        )
        ledger.upgrade()
        other = sqlite3.connect(sqlite_path, isolation_level=None)
        other.execute('BEGIN IMMEDIATE')
        try:
            with pytest.raises(LedgerUnavailable) as caught:
                ledger.create(builders.new_lease())
            assert 'locked' in str(caught.value)
            # Readers are not blocked by the writer (WAL).
            assert ledger.list() == []
        finally:
            other.close()
            ledger.close()

    def test_an_in_memory_ledger_is_one_database_for_all_threads(self):
        with Ledger.from_url('sqlite://') as ledger:
            ledger.upgrade()
            lease = ledger.create(builders.new_lease())
            seen = []
            thread = threading.Thread(
                target=lambda: seen.append(ledger.get(lease.id))
            )
            thread.start()
            thread.join(10)
            assert seen == [lease]


class TestErrors:
    def test_every_ledger_error_is_an_orionx_exception(self):
        for name in (
            'LedgerError',
            'LeaseNotFound',
            'LeaseExists',
            'StaleLease',
            'InvalidTransition',
            'InvalidArgument',
            'MarkerNotFound',
            'LedgerUnavailable',
        ):
            assert issubclass(
                getattr(ledger_api, name), exception.OrionXException
            ), name

    def test_database_errors_are_translated_with_their_cause(self, tmp_path):
        missing = tmp_path / 'no' / 'such' / 'dir' / 'ledger.sqlite'
        with Ledger.from_url('sqlite:///%s' % missing) as ledger:
            with pytest.raises(LedgerUnavailable) as caught:
                ledger.list()
        assert caught.value.__cause__ is not None

    def test_a_bad_url_is_refused_without_showing_it(self):
        for url in ('not a url s3cr3t', 'nonsense://u:s3cr3t@host/db'):
            with pytest.raises(InvalidArgument) as caught:
                Ledger.from_url(url)
            assert 's3cr3t' not in str(caught.value)

    def test_a_missing_driver_is_reported(self, monkeypatch):
        def no_driver(url, **options):
            raise ModuleNotFoundError("No module named 'pg8000'")

        monkeypatch.setattr(ledger_engine, 'create_engine', no_driver)
        with pytest.raises(LedgerUnavailable) as caught:
            Ledger.from_url('postgresql+pg8000://u:s3cr3t@host/db')
        assert 'pg8000' in str(caught.value)
        assert 's3cr3t' not in str(caught.value)
