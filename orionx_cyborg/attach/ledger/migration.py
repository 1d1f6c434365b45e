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

"""Alembic, driven from code: the migrations ship inside this package.

No ``alembic.ini`` is needed: :func:`make_config` points Alembic at the
``migrations`` directory next to this module and hands it an open
connection (or a URL). The ledger's version table is
``ledger_alembic_version``, so that the ledger can share a database with
other Alembic users.
"""

from __future__ import annotations

import os
import sys
from typing import Any
from typing import TextIO

import sqlalchemy as sa
from alembic import command
from alembic import context as alembic_context
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from orionx_cyborg.attach.ledger import engine as ledger_engine
from orionx_cyborg.attach.ledger import models

SCRIPT_LOCATION = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), 'migrations'
)
VERSION_TABLE = 'ledger_alembic_version'


def make_config(
    *,
    url: str | sa.URL | None = None,
    connection: sa.Connection | None = None,
    stdout: TextIO | None = None,
) -> Config:
    """An Alembic configuration for the ledger, without an ini file.

    With *connection*, migrations run on it, in its transaction; otherwise
    the env script makes an engine from *url*.
    """
    config = Config(stdout=stdout if stdout is not None else sys.stdout)
    config.set_main_option('script_location', SCRIPT_LOCATION)
    config.set_main_option('path_separator', 'os')
    config.set_main_option('file_template', '%%(rev)s_%%(slug)s')
    if url is not None:
        rendered = sa.make_url(url).render_as_string(hide_password=False)
        # ConfigParser interpolation: a literal % must be doubled.
        config.set_main_option('sqlalchemy.url', rendered.replace('%', '%%'))
    config.attributes['connection'] = connection
    return config


def upgrade(engine: sa.Engine, revision: str = 'head') -> None:
    """Migrate the database of *engine* up to *revision*."""
    with ledger_engine.for_writing(engine).connect() as connection:
        command.upgrade(make_config(connection=connection), revision)
        connection.commit()


def downgrade(engine: sa.Engine, revision: str) -> None:
    """Migrate the database of *engine* down to *revision*."""
    with ledger_engine.for_writing(engine).connect() as connection:
        command.downgrade(make_config(connection=connection), revision)
        connection.commit()


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at; None before the first upgrade."""
    with engine.connect() as connection:
        migration_context = MigrationContext.configure(
            connection, opts={'version_table': VERSION_TABLE}
        )
        return migration_context.get_current_revision()


def head_revision() -> str | None:
    """The newest revision shipped in the package."""
    return ScriptDirectory.from_config(make_config()).get_current_head()


def compare(engine: sa.Engine) -> list[Any]:
    """Differences between the database and the ORM models.

    Empty when the schema at the database's revision is what the models
    describe; each item is an Alembic autogenerate diff tuple.
    """
    with engine.connect() as connection:
        migration_context = MigrationContext.configure(
            connection, opts=_context_options(connection)
        )
        return list(compare_metadata(migration_context, models.Base.metadata))


def run_env() -> None:
    """The body of ``migrations/env.py``, run by Alembic's commands."""
    config = alembic_context.config
    if alembic_context.is_offline_mode():
        alembic_context.configure(
            url=config.get_main_option('sqlalchemy.url'),
            target_metadata=models.Base.metadata,
            version_table=VERSION_TABLE,
            literal_binds=True,
            dialect_opts={'paramstyle': 'named'},
        )
        with alembic_context.begin_transaction():
            alembic_context.run_migrations()
        return
    connection = config.attributes.get('connection')
    if connection is not None:
        _run_on(connection)
        return
    url = config.get_main_option('sqlalchemy.url')
    if not url:
        raise RuntimeError('no connection and no sqlalchemy.url given')
    engine = ledger_engine.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with ledger_engine.for_writing(engine).connect() as connection:
            _run_on(connection)
            connection.commit()
    finally:
        engine.dispose()


def _run_on(connection: sa.Connection) -> None:
    alembic_context.configure(
        connection=connection, **_context_options(connection)
    )
    with alembic_context.begin_transaction():
        alembic_context.run_migrations()


def _context_options(connection: sa.Connection) -> dict[str, Any]:
    return {
        'target_metadata': models.Base.metadata,
        'version_table': VERSION_TABLE,
        'compare_type': True,
        'compare_server_default': True,
        # SQLite alters tables by copying them; later revisions written
        # with op.batch_alter_table() work on every backend.
        'render_as_batch': connection.dialect.name == 'sqlite',
    }
