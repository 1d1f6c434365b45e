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

"""Stop or start one service of a running full sandbox, from outside it.

``python -m orionx_cyborg.sandbox.full.services --state-dir DIR stop|start
NAME`` works from the state directory's process records, so any process
may call it (the sandbox that started the services may be gone, as after
``up --keep``): ``stop`` terminates the recorded process, ``start`` runs
its recorded command line again, detached, and records the new process
so that ``down`` stops it. Tempest's evacuate test stops and starts a
``nova-compute-HOST`` this way (``[orionx] compute_stop_command``).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from collections.abc import Sequence

from orionx_cyborg.sandbox import processes
from orionx_cyborg.sandbox import stack as light_stack
from orionx_cyborg.sandbox.full import layout

STOP_TIMEOUT = 30.0
#: Services a caller may not stop alone (they are stopped with the
#: sandbox).
PINNED = ('rabbitmq', 'epmd')


class ServiceError(Exception):
    pass


def _find(
    records: Sequence[processes.ProcessRecord], name: str
) -> processes.ProcessRecord:
    for record in records:
        if record.name == name:
            return record
    raise ServiceError('the sandbox records no service %s' % name)


def stop(state_dir: str | pathlib.Path, name: str) -> processes.ProcessRecord:
    """Terminate service *name* (SIGTERM, then SIGKILL); its record."""
    if name in PINNED:
        raise ServiceError('%s is stopped with the sandbox' % name)
    state = layout.FullLayout(state_dir)
    record = _find(processes.load_records(state.processes), name)
    processes.terminate(record, None, STOP_TIMEOUT)
    return record


def start(state_dir: str | pathlib.Path, name: str) -> processes.ProcessRecord:
    """Run stopped service *name* again; the new process's record."""
    state = layout.FullLayout(state_dir)
    records = processes.load_records(state.processes)
    old = _find(records, name)
    if processes.is_running(old):
        raise ServiceError('%s is still running' % name)
    python, dash_m, module, *args = old.argv
    if dash_m != '-m':
        raise ServiceError('%s was not started as python -m' % name)
    service = processes.Service(
        name,
        module,
        args,
        pathlib.Path(old.log),
        light_stack.child_environment(watch_parent=False),
        python=python,
    )
    processes.save_records(
        state.processes,
        [service.record if r.name == name else r for r in records],
    )
    return service.record


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='services')
    parser.add_argument('--state-dir', required=True)
    parser.add_argument('action', choices=('stop', 'start'))
    parser.add_argument('name')
    args = parser.parse_args(argv)
    try:
        if args.action == 'stop':
            record = stop(args.state_dir, args.name)
            print('stopped %s (pid %d)' % (record.name, record.pid))
        else:
            record = start(args.state_dir, args.name)
            print('started %s (pid %d)' % (record.name, record.pid))
    except ServiceError as err:
        print('%s: %s' % (args.action, err), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
