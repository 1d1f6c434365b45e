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

"""Starting, watching and stopping the sandbox's service processes.

Each service is ``python -m <module> ...`` with stdout and stderr in its
log file. A service is ready when its log has a line starting with
``READY <service>``, or, for a service that prints none (the attach
service), when its health URL answers 200. What was started is
recorded with its PID *and* its start time (field 22 of
``/proc/<pid>/stat``), so a later ``down`` never signals a process that
merely reuses a recorded PID.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from collections.abc import Sequence

from orionx_cyborg.sandbox import wsgi

TAIL_CHARS = 4000


class ServiceFailed(RuntimeError):
    """A service exited or never became ready; the message has its log."""


@dataclasses.dataclass(frozen=True)
class ProcessRecord:
    name: str
    pid: int
    start_ticks: int
    argv: tuple[str, ...]
    log: str


def start_ticks(pid: int) -> int | None:
    """When *pid* started (clock ticks since boot), None if it is gone."""
    try:
        stat = pathlib.Path('/proc/%d/stat' % pid).read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; fields after it don't.
    fields = stat.rsplit(')', 1)[1].split()
    if fields[0] == 'Z':
        return None
    return int(fields[19])


def is_running(record: ProcessRecord) -> bool:
    return start_ticks(record.pid) == record.start_ticks


def tail(path: str | os.PathLike[str], chars: int = TAIL_CHARS) -> str:
    try:
        with open(path, 'rb') as stream:
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            stream.seek(max(0, size - chars))
            return stream.read().decode('utf-8', 'replace')
    except OSError as err:
        return '(no log: %s)' % err


class Service:
    """One started service process."""

    def __init__(
        self,
        name: str,
        module: str,
        args: Sequence[str],
        log: pathlib.Path,
        env: Mapping[str, str],
        python: str = sys.executable,
        detach: bool = True,
        ready_url: str | None = None,
    ) -> None:
        self.name = name
        self.log = log
        self.ready_url = ready_url
        argv = [python, '-m', module, *args]
        with open(log, 'ab') as stream:
            # Logs are appended across runs: only what this run writes
            # counts when looking for READY.
            self.log_offset = stream.tell()
            self.popen = subprocess.Popen(  # noqa: S603 - our own modules
                argv,
                stdin=subprocess.DEVNULL,
                stdout=stream,
                stderr=subprocess.STDOUT,
                env=dict(env),
                # Own session: a terminal's Ctrl-C goes to the command
                # only, which then stops the services in order.
                start_new_session=detach,
            )
        ticks = start_ticks(self.popen.pid)
        self.record = ProcessRecord(
            name=name,
            pid=self.popen.pid,
            start_ticks=ticks if ticks is not None else -1,
            argv=tuple(argv),
            log=str(log),
        )

    def ready_line(self) -> str | None:
        if self.ready_url is not None:
            return self._probe(self.ready_url)
        prefix = '%s %s ' % (wsgi.READY_PREFIX, self.name)
        try:
            with open(self.log, 'rb') as stream:
                stream.seek(self.log_offset)
                text = stream.read().decode('utf-8', 'replace')
        except OSError:
            return None
        for line in text.splitlines():
            if line.startswith(prefix):
                return line
        return None

    def _probe(self, url: str) -> str | None:
        # Only the sandbox's own loopback URL, never a user's: S310.
        try:
            with urllib.request.urlopen(url, timeout=2) as got:  # noqa: S310
                status = got.status
        except (urllib.error.URLError, OSError):
            return None
        if status != 200:
            return None
        return '%s %s %s answered %d' % (
            wsgi.READY_PREFIX,
            self.name,
            url,
            status,
        )

    def failure(self, why: str) -> ServiceFailed:
        return ServiceFailed(
            '%s %s; last lines of %s:\n%s'
            % (self.name, why, self.log, tail(self.log))
        )


def wait_ready(
    services: Sequence[Service], timeout: float, poll: float = 0.05
) -> dict[str, str]:
    """Wait for every service's READY line; raise on exit or timeout."""
    deadline = time.monotonic() + timeout
    pending = {service.name: service for service in services}
    ready: dict[str, str] = {}
    while pending:
        for name, service in list(pending.items()):
            line = service.ready_line()
            if line is not None:
                ready[name] = line
                del pending[name]
            elif service.popen.poll() is not None:
                raise service.failure(
                    'exited with status %d' % service.popen.returncode
                )
        if pending and time.monotonic() > deadline:
            first = next(iter(pending.values()))
            raise first.failure('was not ready after %.0fs' % timeout)
        if pending:
            time.sleep(poll)
    return ready


def terminate(
    record: ProcessRecord,
    popen: subprocess.Popen[bytes] | None = None,
    timeout: float = 5.0,
) -> None:
    """SIGTERM, then SIGKILL after *timeout*; only if it is still ours."""
    if not is_running(record):
        if popen is not None:
            popen.poll()
        return
    _signal(record, signal.SIGTERM)
    if _wait_gone(record, popen, timeout):
        return
    _signal(record, signal.SIGKILL)
    _wait_gone(record, popen, timeout)


def kill(
    record: ProcessRecord,
    popen: subprocess.Popen[bytes] | None = None,
    signum: int = signal.SIGKILL,
    timeout: float = 5.0,
) -> bool:
    """Send *signum* (only if it is still ours); True once it is gone."""
    _signal(record, signum)
    return _wait_gone(record, popen, timeout)


def _signal(record: ProcessRecord, signum: int) -> None:
    if is_running(record):
        try:
            os.kill(record.pid, signum)
        except ProcessLookupError:
            pass


def _wait_gone(
    record: ProcessRecord,
    popen: subprocess.Popen[bytes] | None,
    timeout: float,
) -> bool:
    if popen is not None:
        try:
            popen.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False
    deadline = time.monotonic() + timeout
    while is_running(record):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def save_records(path: pathlib.Path, records: Sequence[ProcessRecord]) -> None:
    data = [dataclasses.asdict(record) for record in records]
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def load_records(path: pathlib.Path) -> list[ProcessRecord]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    return [
        ProcessRecord(**dict(item, argv=tuple(item['argv']))) for item in data
    ]
