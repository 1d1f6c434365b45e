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

"""PostgreSQL for the ledger tests: a given server or a private cluster.

``ORIONX_TEST_POSTGRES_URL`` (a SQLAlchemy URL, e.g.
``postgresql+psycopg://user:pw@127.0.0.1:5432/db``) names a server to use;
its user needs CREATE on the database. Otherwise, when PostgreSQL's server
binaries are installed (Debian: ``/usr/lib/postgresql/*/bin``), a private
throw-away cluster is made in a temporary directory and started on a free
loopback port, with fsync off: it lives for the test session only. As root,
it runs as the ``postgres`` user (PostgreSQL refuses to run as root). Each
test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

import sqlalchemy as sa

from orionx_cyborg.sandbox import wsgi

URL_ENVIRONMENT = 'ORIONX_TEST_POSTGRES_URL'
SUPERUSER = 'orionx'
PREFIX = 'orionx-ledger-pg-'
OWNER_FILE = 'owner.pid'
DATABASE = 'ledger_tests'
START_TIMEOUT_S = 30.0
# Users a root test run may start the cluster as, in order of preference.
SERVICE_USERS = ('postgres', 'nobody')
_PR_SET_PDEATHSIG = 1


class Unavailable(Exception):
    """No PostgreSQL to test with; the message says why."""


def find_bindir() -> str | None:
    """The newest PostgreSQL server binaries installed, if any."""
    candidates = []
    for initdb in glob.glob('/usr/lib/postgresql/*/bin/initdb'):
        match = re.search(r'/postgresql/(\d+)/', initdb)
        if match:
            candidates.append((int(match.group(1)), os.path.dirname(initdb)))
    if candidates:
        return max(candidates)[1]
    initdb = shutil.which('initdb')
    return os.path.dirname(initdb) if initdb else None


class Server:
    """A PostgreSQL server the tests may create schemas in."""

    def __init__(self, url: sa.URL) -> None:
        self.url = url
        self._admin = sa.create_engine(
            url, isolation_level='AUTOCOMMIT', poolclass=sa.pool.NullPool
        )

    @contextlib.contextmanager
    def schema(self) -> Iterator[str]:
        """A URL whose connections use a fresh, private schema."""
        name = 'ledger_%s' % uuid.uuid4().hex[:12]
        with self._admin.connect() as connection:
            connection.exec_driver_sql('CREATE SCHEMA %s' % name)
        try:
            yield self.url.update_query_dict(
                {'options': '-csearch_path=%s' % name}
            ).render_as_string(hide_password=False)
        finally:
            with self._admin.connect() as connection:
                connection.exec_driver_sql('DROP SCHEMA %s CASCADE' % name)

    def close(self) -> None:
        self._admin.dispose()


class Cluster:
    """A private cluster in a temporary directory; :meth:`stop` removes it."""

    def __init__(self, bindir: str) -> None:
        remove_stale_clusters()
        self.bindir = bindir
        self.base = tempfile.mkdtemp(prefix=PREFIX)
        with open(os.path.join(self.base, OWNER_FILE), 'w') as owner:
            owner.write('%d\n' % os.getpid())
        self.data = os.path.join(self.base, 'data')
        self.log = os.path.join(self.base, 'postgres.log')
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._user = _service_user()
        if self._user is not None:
            os.chown(self.base, self._user.pw_uid, self._user.pw_gid)

    def start(self) -> sa.URL:
        self._run(
            [
                os.path.join(self.bindir, 'initdb'),
                '-D',
                self.data,
                '-U',
                SUPERUSER,
                '--auth=trust',
                '--encoding=UTF8',
                '--no-locale',
                '--no-sync',
            ]
        )
        for _attempt in range(3):
            self.port = wsgi.free_port()
            if self._start_server():
                break
        else:
            raise RuntimeError('PostgreSQL did not start:\n%s' % self._tail())
        url = sa.URL.create(
            'postgresql+psycopg',
            username=SUPERUSER,
            host='127.0.0.1',
            port=self.port,
            database='postgres',
        )
        admin = sa.create_engine(
            url, isolation_level='AUTOCOMMIT', poolclass=sa.pool.NullPool
        )
        try:
            with admin.connect() as connection:
                connection.exec_driver_sql('CREATE DATABASE %s' % DATABASE)
        finally:
            admin.dispose()
        return url.set(database=DATABASE)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            # Immediate shutdown: nothing in this cluster is worth keeping.
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.base, ignore_errors=True)

    def _start_server(self) -> bool:
        with open(self.log, 'ab') as log:
            self._process = subprocess.Popen(
                [
                    os.path.join(self.bindir, 'postgres'),
                    '-D',
                    self.data,
                    '-p',
                    str(self.port),
                    '-k',
                    self.base,
                    '-c',
                    'listen_addresses=127.0.0.1',
                    '-c',
                    'max_connections=40',
                    # Throw-away data: durability only costs time.
                    '-F',
                    '-c',
                    'synchronous_commit=off',
                    '-c',
                    'full_page_writes=off',
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.base,
                preexec_fn=_die_with_parent,
                **self._as_user(),
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False  # e.g. the port was taken meanwhile
            if _accepts_connections(self.port):
                return True
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            'PostgreSQL did not start in %ds:\n%s'
            % (START_TIMEOUT_S, self._tail())
        )

    def _run(self, command: list[str]) -> None:
        result = subprocess.run(
            command,
            cwd=self.base,
            capture_output=True,
            text=True,
            check=False,
            **self._as_user(),
        )
        if result.returncode:
            raise RuntimeError(
                '%s failed (%d):\n%s%s'
                % (command[0], result.returncode, result.stdout, result.stderr)
            )

    def _as_user(self) -> dict[str, object]:
        if self._user is None:
            return {}
        return {
            'user': self._user.pw_uid,
            'group': self._user.pw_gid,
            'extra_groups': [],
        }

    def _tail(self) -> str:
        try:
            with open(self.log, encoding='utf-8', errors='replace') as log:
                return log.read()[-4000:]
        except OSError:
            return '(no log)'


def start() -> tuple[Server, Cluster | None]:
    """The server to test on, and the cluster to stop after the session.

    Raises :class:`Unavailable` with the reason when there is none.
    """
    url = os.environ.get(URL_ENVIRONMENT)
    if url:
        return Server(sa.make_url(url)), None
    bindir = find_bindir()
    if bindir is None:
        raise Unavailable(
            'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/'
            'initdb; Debian: apt-get install postgresql) and $%s is not '
            'set' % URL_ENVIRONMENT
        )
    if os.geteuid() == 0 and _service_user() is None:
        raise Unavailable(
            'running as root, and none of the users %s exists '
            'to run PostgreSQL as' % ', '.join(SERVICE_USERS)
        )
    cluster = Cluster(bindir)
    try:
        return Server(cluster.start()), cluster
    except BaseException:
        cluster.stop()
        raise


def remove_stale_clusters() -> None:
    """Remove the directories of clusters whose test run was killed.

    Their server died with the run (see _die_with_parent); the directory
    stays behind. Directories of live runs are left alone.
    """
    pattern = os.path.join(tempfile.gettempdir(), PREFIX + '*', OWNER_FILE)
    for owner_file in glob.glob(pattern):
        try:
            with open(owner_file) as owner:
                pid = int(owner.read().strip())
        except (OSError, ValueError):
            continue
        if not _alive(pid):
            shutil.rmtree(os.path.dirname(owner_file), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _service_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in SERVICE_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=0.5):
            pass
    except OSError:
        return False
    # The port opens before the server accepts logins; ask it.
    engine = sa.create_engine(
        sa.URL.create(
            'postgresql+psycopg',
            username=SUPERUSER,
            host='127.0.0.1',
            port=port,
            database='postgres',
        ),
        poolclass=sa.pool.NullPool,
    )
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def _die_with_parent() -> None:
    # If the test run is killed, the cluster must not outlive it.
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT)
