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

"""``orionx-cyborg-attach-dbsync``: migrate the lease ledger's schema.

::

    orionx-cyborg-attach-dbsync [--database-url URL] upgrade [REV] [--sql]
    orionx-cyborg-attach-dbsync [--database-url URL] downgrade REV [--sql]
    orionx-cyborg-attach-dbsync [--database-url URL] current
    orionx-cyborg-attach-dbsync [--database-url URL] check
    orionx-cyborg-attach-dbsync history
    orionx-cyborg-attach-dbsync [--database-url URL] revision -m MSG \\
        [--autogenerate]

The URL defaults to ``$ORIONX_ATTACH_DATABASE_URL``. ``--sql`` prints the
SQL instead of running it, for a DBA to review. ``revision`` is for
developers: it writes a new file into the package's migrations, from a
source checkout.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import command
from alembic import util as alembic_util

from orionx_cyborg.attach.ledger import engine as ledger_engine
from orionx_cyborg.attach.ledger import errors
from orionx_cyborg.attach.ledger import migration

URL_ENVIRONMENT = 'ORIONX_ATTACH_DATABASE_URL'
PROG = 'orionx-cyborg-attach-dbsync'


def main(argv: Sequence[str] | None = None) -> int:
    """Run one dbsync command; return the process exit status."""
    parser = _parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    url = args.database_url or os.environ.get(URL_ENVIRONMENT)
    if args.needs_url(args) and not url:
        parser.error(
            'no database: pass --database-url or set $%s' % URL_ENVIRONMENT
        )
    try:
        return int(args.run(args, url))
    except (
        errors.LedgerError,
        alembic_util.CommandError,
        sa.exc.SQLAlchemyError,
    ) as exc:
        print('%s: %s' % (PROG, exc), file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Migrate the attach service's lease ledger."
    )
    parser.add_argument(
        '--database-url',
        metavar='URL',
        help='SQLAlchemy URL of the ledger (default: $%s)' % URL_ENVIRONMENT,
    )
    commands = parser.add_subparsers(dest='command', required=True)

    upgrade = commands.add_parser('upgrade', help='migrate up')
    upgrade.add_argument('revision', nargs='?', default='head')
    upgrade.add_argument(
        '--sql',
        action='store_true',
        help='print the SQL instead of running it',
    )
    upgrade.set_defaults(run=_upgrade, needs_url=_always)

    downgrade = commands.add_parser('downgrade', help='migrate down')
    downgrade.add_argument('revision')
    downgrade.add_argument(
        '--sql',
        action='store_true',
        help='print the SQL instead of running it',
    )
    downgrade.set_defaults(run=_downgrade, needs_url=_always)

    current = commands.add_parser(
        'current', help="print the database's revision"
    )
    current.set_defaults(run=_current, needs_url=_always)

    check = commands.add_parser(
        'check', help='compare the database with the models'
    )
    check.set_defaults(run=_check, needs_url=_always)

    history = commands.add_parser('history', help='list the revisions')
    history.set_defaults(run=_history, needs_url=_never)

    revision = commands.add_parser(
        'revision', help='write a new revision file (developers)'
    )
    revision.add_argument('-m', '--message', required=True)
    revision.add_argument(
        '--autogenerate',
        action='store_true',
        help='draft it from the models and the database',
    )
    revision.add_argument('--rev-id', help='revision id (default: random)')
    revision.set_defaults(
        run=_revision, needs_url=lambda args: args.autogenerate
    )
    return parser


def _always(args: argparse.Namespace) -> bool:
    return True


def _never(args: argparse.Namespace) -> bool:
    return False


def _engine(url: str) -> sa.Engine:
    # One short-lived connection: no pool to keep.
    return ledger_engine.create_engine(url, poolclass=sa.pool.NullPool)


def _upgrade(args: argparse.Namespace, url: str) -> int:
    if args.sql:
        command.upgrade(
            migration.make_config(url=url), args.revision, sql=True
        )
        return 0
    engine = _engine(url)
    try:
        migration.upgrade(engine, args.revision)
        print('Ledger at revision %s' % migration.current_revision(engine))
    finally:
        engine.dispose()
    return 0


def _downgrade(args: argparse.Namespace, url: str) -> int:
    if args.sql:
        command.downgrade(
            migration.make_config(url=url), args.revision, sql=True
        )
        return 0
    engine = _engine(url)
    try:
        migration.downgrade(engine, args.revision)
        print('Ledger at revision %s' % migration.current_revision(engine))
    finally:
        engine.dispose()
    return 0


def _current(args: argparse.Namespace, url: str) -> int:
    engine = _engine(url)
    try:
        current = migration.current_revision(engine)
    finally:
        engine.dispose()
    head = migration.head_revision()
    if current is None:
        print('None (empty database; head is %s)' % head)
    elif current == head:
        print('%s (head)' % current)
    else:
        print('%s (head is %s)' % (current, head))
    return 0


def _check(args: argparse.Namespace, url: str) -> int:
    engine = _engine(url)
    try:
        differences = migration.compare(engine)
    finally:
        engine.dispose()
    if not differences:
        print('The database matches the models')
        return 0
    print('The database differs from the models:')
    for difference in differences:
        print('  %s' % (difference,))
    return 1


def _history(args: argparse.Namespace, url: str | None) -> int:
    command.history(migration.make_config())
    return 0


def _revision(args: argparse.Namespace, url: str | None) -> int:
    if not args.autogenerate:
        command.revision(
            migration.make_config(), message=args.message, rev_id=args.rev_id
        )
        return 0
    if url is None:
        raise errors.InvalidArgument(reason='--autogenerate needs a database')
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            command.revision(
                migration.make_config(connection=connection),
                message=args.message,
                autogenerate=True,
                rev_id=args.rev_id,
            )
    finally:
        engine.dispose()
    return 0
