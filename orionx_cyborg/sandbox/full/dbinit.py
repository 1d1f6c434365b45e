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

"""Schemas that the projects' own migrations cannot build on SQLite.

``python -m orionx_cyborg.sandbox.full.dbinit neutron|cyborg STATE_DIR
[REGION]`` (a region's Cyborg: see :func:`.layout.regional`).
Neutron's and Cyborg's alembic migrations ALTER constraints and columns,
which SQLite cannot: the schema is built from the models, then stamped
at the migrations' head (Neutron: ``neutron-db-manage stamp heads``;
Cyborg: ``cyborg-dbsync create_schema`` does both). Cyborg's models lag
its migrations in two places that its Tempest tests notice; the
statements in :data:`CYBORG_FIXES` add what the migrations would.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from typing import Any

from orionx_cyborg.sandbox.full import launch
from orionx_cyborg.sandbox.full import layout

CYBORG_FIXES = """
-- Migration c1b5abada09c makes device_profiles.uuid unique on its own.
CREATE UNIQUE INDEX IF NOT EXISTS uniq_device_profiles0uuid
    ON device_profiles(uuid);
-- SQLite ignores VARCHAR(255); a database server refuses longer names.
CREATE TRIGGER IF NOT EXISTS dp_name_len BEFORE INSERT ON device_profiles
    WHEN length(NEW.name) > 255
    BEGIN SELECT RAISE(ABORT, 'device_profiles.name longer than 255'); END;
"""


def sqlite_path(url: str) -> str:
    return url.split(':///', 1)[1].split('?', 1)[0]


def _exit_status(function: Callable[[str], Any], entry: str) -> int:
    """Call a console script's main; its exit status (it may exit)."""
    try:
        result = function(entry)
    except SystemExit as done:
        return (
            done.code if isinstance(done.code, int) else int(bool(done.code))
        )
    return result if isinstance(result, int) else 0


def neutron(state: layout.FullLayout, region: str = layout.REGION) -> int:
    import sqlalchemy

    # Importing head imports every Neutron model, ML2's included.
    from neutron.db.migration.models import head

    url = state.sqlite_url('neutron')
    engine = sqlalchemy.create_engine(url)
    head.get_metadata().create_all(engine)
    engine.dispose()
    etc = state.etc('neutron')
    sys.argv = [
        'neutron-db-manage',
        '--config-file',
        str(etc / 'neutron.conf'),
        '--config-file',
        str(etc / 'plugins' / 'ml2' / 'ml2_conf.ini'),
        'stamp',
        'heads',
    ]
    return _exit_status(launch.call_entry, 'neutron.db.migration.cli:main')


def cyborg(state: layout.FullLayout, region: str = layout.REGION) -> int:
    name = layout.regional('cyborg', region)
    sys.argv = [
        'cyborg-dbsync',
        '--config-file',
        str(state.etc(name) / 'cyborg.conf'),
        'create_schema',
    ]
    status = _exit_status(launch.call_entry, 'cyborg.cmd.dbsync:main')
    if status:
        return status
    with sqlite3.connect(sqlite_path(state.sqlite_url(name))) as conn:
        conn.executescript(CYBORG_FIXES)
    return 0


def use_wal(path: str) -> None:
    """Readers no longer wait for writers (persistent per file)."""
    with sqlite3.connect(path) as conn:
        conn.execute('PRAGMA journal_mode=WAL')


STEPS = {'neutron': neutron, 'cyborg': cyborg}


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3) or argv[0] not in STEPS:
        print(
            'usage: dbinit neutron|cyborg STATE_DIR [REGION]', file=sys.stderr
        )
        return 2
    launch.queue_sqlite_writers()
    region = argv[2] if len(argv) == 3 else layout.REGION
    return STEPS[argv[0]](layout.FullLayout(argv[1]), region)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
