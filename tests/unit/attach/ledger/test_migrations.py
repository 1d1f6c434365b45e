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

"""Migrations: upgrade, downgrade, and agreement with the models."""

from __future__ import annotations

import shutil

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from orionx_cyborg.attach.ledger import LeaseState
from orionx_cyborg.attach.ledger import LedgerUnavailable
from orionx_cyborg.attach.ledger import dbsync
from orionx_cyborg.attach.ledger import migration
from orionx_cyborg.attach.ledger import models
from tests.unit.attach.ledger import builders

TABLES = {'leases', 'lease_events', 'ledger_counters', migration.VERSION_TABLE}


def table_names(engine):
    return set(sa.inspect(engine).get_table_names())


class TestUpgrade:
    def test_upgrade_from_empty_to_head(self, empty_ledger):
        assert empty_ledger.current_revision() is None
        empty_ledger.upgrade()
        assert empty_ledger.current_revision() == migration.head_revision()
        assert TABLES <= table_names(empty_ledger.engine)
        assert empty_ledger.create(builders.new_lease()).seq == 1

    def test_upgrade_twice_is_harmless(self, empty_ledger):
        empty_ledger.upgrade()
        lease = empty_ledger.create(builders.new_lease())
        empty_ledger.upgrade()
        assert empty_ledger.get(lease.id) == lease

    def test_the_models_match_the_head_schema(self, empty_ledger):
        empty_ledger.upgrade()
        assert migration.compare(empty_ledger.engine) == []

    def test_the_comparison_sees_drift(self, empty_ledger):
        ledger = empty_ledger
        ledger.upgrade()
        with ledger.engine.begin() as connection:
            connection.exec_driver_sql('DROP INDEX ix_leases_vm_host')
        differences = migration.compare(ledger.engine)
        assert [('add_index', 'ix_leases_vm_host')] == [
            (difference[0], difference[1].name) for difference in differences
        ]

    def test_downgrade_to_base_and_back(self, empty_ledger):
        ledger = empty_ledger
        ledger.upgrade()
        ledger.create(builders.new_lease(), event='created')
        migration.downgrade(ledger.engine, 'base')
        assert table_names(ledger.engine) <= {migration.VERSION_TABLE}
        assert ledger.current_revision() is None
        ledger.upgrade()
        assert migration.compare(ledger.engine) == []

    def test_constraint_and_runtime_columns_keep_old_leases(
        self, empty_ledger
    ):
        """c81f4a2d9e36 adds nullable columns.

        Old rows read as unconstrained; a downgrade keeps the leases.
        """
        ledger = empty_ledger
        migration.upgrade(ledger.engine, 'a5d3e1c07b42')
        columns = {
            c['name'] for c in sa.inspect(ledger.engine).get_columns('leases')
        }
        assert not {'gpu_constraint', 'runtime'} & columns
        with ledger.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO leases (id, arq_uuid, instance_uuid, "
                    "project_id, vm_host, pool, state, seq, gmem_mib, "
                    "compute_pct, version, created_at, updated_at) VALUES "
                    "(:id, :arq, :inst, 'p', 'h', 'default', 'pending', 1, "
                    "1024, 10, 1, :at, :at)"
                ),
                {
                    'id': '00000000-0000-4000-8000-000000000001',
                    'arq': '00000000-0000-4000-8000-000000000002',
                    'inst': '00000000-0000-4000-8000-000000000003',
                    'at': '2026-01-01 00:00:00',
                },
            )
            connection.exec_driver_sql(
                "UPDATE ledger_counters SET value = 1 WHERE name = 'lease_seq'"
            )
        ledger.upgrade()
        (old,) = ledger.list()
        assert (old.gpu_constraint, old.runtime) == (None, None)
        new = ledger.create(
            builders.new_lease(
                gpu_constraint='{"required": ["CUSTOM_GPU_AMD"]}'
            )
        )
        assert ledger.get(new.id).gpu_constraint == (
            '{"required": ["CUSTOM_GPU_AMD"]}'
        )
        migration.downgrade(ledger.engine, 'a5d3e1c07b42')
        columns = {
            c['name'] for c in sa.inspect(ledger.engine).get_columns('leases')
        }
        assert not {'gpu_constraint', 'runtime'} & columns
        with ledger.engine.connect() as connection:
            count = connection.execute(sa.text('SELECT COUNT(*) FROM leases'))
            assert count.scalar_one() == 2
        ledger.upgrade()
        assert migration.compare(ledger.engine) == []

    def test_a_ledger_without_schema_says_so(self, empty_ledger):
        with pytest.raises(LedgerUnavailable):
            empty_ledger.create(builders.new_lease())
        with pytest.raises(LedgerUnavailable):
            empty_ledger.list()


class TestConstraints:
    """The database refuses bad rows even from outside the ledger."""

    def insert(self, ledger, **overrides):
        lease = builders.new_lease()
        values = {
            'id': lease.id,
            'arq_uuid': lease.arq_uuid,
            'instance_uuid': lease.instance_uuid,
            'project_id': 'p',
            'vm_host': 'h',
            'pool': 'default',
            'state': 'pending',
            'seq': 1,
            'gmem_mib': 1,
            'compute_pct': 1,
            'version': 1,
            'created_at': '2026-01-01 00:00:00',
            'updated_at': '2026-01-01 00:00:00',
        }
        values.update(overrides)
        columns = ', '.join(values)
        params = ', '.join(':%s' % name for name in values)
        with ledger.engine.begin() as connection:
            connection.execute(
                sa.text(
                    'INSERT INTO leases (%s) VALUES (%s)' % (columns, params)
                ),
                values,
            )

    def test_a_valid_row_goes_in(self, ledger):
        self.insert(ledger)
        assert 1 == len(ledger.list())

    @pytest.mark.parametrize(
        'overrides',
        [
            {'state': 'sleeping'},
            {'gmem_mib': 0},
            {'compute_pct': 0},
            {'arq_uuid': None},
        ],
    )
    def test_bad_rows_are_refused(self, ledger, overrides):
        with pytest.raises(sa.exc.IntegrityError):
            self.insert(ledger, **overrides)

    def test_seq_and_arq_are_unique(self, ledger):
        self.insert(ledger, arq_uuid='a', seq=5)
        with pytest.raises(sa.exc.IntegrityError):
            self.insert(ledger, seq=5)
        with pytest.raises(sa.exc.IntegrityError):
            self.insert(ledger, arq_uuid='a', seq=6)


class TestRevisions:
    def test_one_head_and_every_revision_can_go_down(self):
        scripts = ScriptDirectory.from_config(migration.make_config())
        assert len(scripts.get_heads()) == 1
        for script in scripts.walk_revisions():
            with open(script.path, encoding='utf-8') as source:
                text = source.read()
            assert text.startswith('# Copyright (c) 2026 orionx-cyborg')
            assert 'def downgrade() -> None:' in text


class TestDbsync:
    def run(self, capsys, *argv):
        status = dbsync.main(list(argv))
        out, err = capsys.readouterr()
        return status, out, err

    def test_upgrade_current_check(self, database_url, capsys):
        head = migration.head_revision()
        status, out, _ = self.run(
            capsys, '--database-url', database_url, 'current'
        )
        assert (0, 'None (empty database; head is %s)\n' % head) == (
            status,
            out,
        )
        status, out, _ = self.run(
            capsys, '--database-url', database_url, 'upgrade'
        )
        assert (0, 'Ledger at revision %s\n' % head) == (status, out)
        status, out, _ = self.run(
            capsys, '--database-url', database_url, 'current'
        )
        assert (0, '%s (head)\n' % head) == (status, out)
        status, out, _ = self.run(
            capsys, '--database-url', database_url, 'check'
        )
        assert (0, 'The database matches the models\n') == (status, out)

    def test_the_url_may_come_from_the_environment(
        self, database_url, capsys, monkeypatch
    ):
        monkeypatch.setenv(dbsync.URL_ENVIRONMENT, database_url)
        assert self.run(capsys, 'upgrade')[0] == 0
        status, out, _ = self.run(capsys, 'downgrade', 'base')
        assert (0, 'Ledger at revision None\n') == (status, out)

    def test_no_url_is_a_usage_error(self, capsys, monkeypatch):
        monkeypatch.delenv(dbsync.URL_ENVIRONMENT, raising=False)
        with pytest.raises(SystemExit) as caught:
            dbsync.main(['upgrade'])
        assert caught.value.code == 2
        assert dbsync.URL_ENVIRONMENT in capsys.readouterr().err

    def test_errors_are_reported_not_raised(self, database_url, capsys):
        status, _, err = self.run(
            capsys, '--database-url', database_url, 'upgrade', 'nonexistent'
        )
        assert status == 1
        assert err.startswith(dbsync.PROG)

    @pytest.mark.parametrize(
        'url', ['postgresql+psycopg://db/ledger', 'sqlite:///ledger.sqlite']
    )
    def test_upgrade_sql_prints_the_script(self, capsys, url):
        status, out, _ = self.run(
            capsys, '--database-url', url, 'upgrade', '--sql'
        )
        assert status == 0
        assert 'CREATE TABLE leases' in out
        assert "INSERT INTO ledger_counters" in out

    def test_history_lists_the_revisions(self, capsys):
        status, out, _ = self.run(capsys, 'history')
        assert status == 0
        assert migration.head_revision() in out

    def test_revision_drafts_an_empty_migration_when_in_sync(
        self, database_url, capsys, monkeypatch, tmp_path
    ):
        head = migration.head_revision()
        scripts = tmp_path / 'migrations'
        shutil.copytree(
            migration.SCRIPT_LOCATION,
            scripts,
            ignore=shutil.ignore_patterns('__pycache__'),
        )
        monkeypatch.setattr(migration, 'SCRIPT_LOCATION', str(scripts))
        assert (
            self.run(capsys, '--database-url', database_url, 'upgrade')[0] == 0
        )
        status, _, _ = self.run(
            capsys,
            '--database-url',
            database_url,
            'revision',
            '--autogenerate',
            '--rev-id',
            'b0b0b0b0b0b0',
            '-m',
            'nothing to do',
        )
        assert status == 0
        path = scripts / 'versions' / 'b0b0b0b0b0b0_nothing_to_do.py'
        text = path.read_text()
        assert text.startswith('# Copyright (c) 2026 orionx-cyborg')
        assert (
            "down_revision: str | Sequence[str] | None = '%s'" % head in text
        )
        # Autogenerate found nothing: both bodies are empty.
        assert text.count('    pass\n') == 2, text


def reflected_names(engine, table):
    inspector = sa.inspect(engine)
    return {
        'pk': inspector.get_pk_constraint(table)['name'],
        'unique': sorted(
            constraint['name']
            for constraint in inspector.get_unique_constraints(table)
        ),
        'check': sorted(
            constraint['name']
            for constraint in inspector.get_check_constraints(table)
        ),
        'index': sorted(
            index['name']
            for index in inspector.get_indexes(table)
            if not index.get('duplicates_constraint')
        ),
    }


def model_names(table):
    table = models.Base.metadata.tables[table]
    constraints = table.constraints
    return {
        'pk': table.primary_key.name,
        'unique': sorted(
            constraint.name
            for constraint in constraints
            if isinstance(constraint, sa.UniqueConstraint)
        ),
        'check': sorted(
            constraint.name
            for constraint in constraints
            if isinstance(constraint, sa.CheckConstraint)
        ),
        'index': sorted(index.name for index in table.indexes),
    }


class TestNames:
    """What autogenerate does not compare: constraint names and checks."""

    @pytest.mark.parametrize(
        'table', ['leases', 'lease_events', 'ledger_counters']
    )
    def test_constraints_and_indexes_have_the_models_names(
        self, ledger, table
    ):
        expected = model_names(table)
        if (ledger.engine.dialect.name, table) == ('sqlite', 'lease_events'):
            # SQLite's AUTOINCREMENT key is declared on the column,
            # where a constraint has no name.
            expected['pk'] = None
        assert reflected_names(ledger.engine, table) == expected

    def test_the_state_check_lists_every_state(self, ledger):
        checks = {
            check['name']: check['sqltext']
            for check in sa.inspect(ledger.engine).get_check_constraints(
                'leases'
            )
        }
        for state in LeaseState:
            assert "'%s'" % state.value in checks['ck_leases_lease_state']
