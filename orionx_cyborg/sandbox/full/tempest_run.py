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

"""Run Tempest suites against the full sandbox.

``python -m orionx_cyborg.sandbox.full.tempest_run [--state-dir DIR]
[--regex REGEX] [--keep]`` starts the full sandbox (unless one already
runs in DIR), runs ``tempest run`` with the ``tempest.conf`` it wrote,
prints Tempest's summary, and stops the sandbox it started. The default
regex is cyborg-tempest-plugin's API tests. Exit status: Tempest's.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from collections.abc import Sequence

from orionx_cyborg.sandbox import processes
from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import stack

DEFAULT_REGEX = r'^cyborg_tempest_plugin\.tests\.api'
TIMEOUT = 1800


def tempest_command() -> list[str]:
    """``tempest`` of this interpreter's environment."""
    return [sys.executable, '-m', 'tempest.cmd.main']


def run_tempest(state: layout.FullLayout, regex: str, concurrency: int) -> int:
    workdir = state.root / 'tempest'
    workdir.mkdir(exist_ok=True)
    command = tempest_command() + [
        'run',
        '--config-file',
        str(state.tempest_conf),
        '--regex',
        regex,
        '--concurrency',
        str(concurrency),
    ]
    done = subprocess.run(  # noqa: S603 - tempest of this environment
        command, cwd=workdir, timeout=TIMEOUT, check=False
    )
    return done.returncode


def running(state: layout.FullLayout) -> bool:
    records = processes.load_records(state.processes)
    return bool(records) and all(processes.is_running(r) for r in records)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='tempest_run')
    parser.add_argument(
        '--state-dir',
        default=os.environ.get('ORIONX_SANDBOX_STATE_DIR', 'sandbox-full'),
    )
    parser.add_argument('--regex', default=DEFAULT_REGEX)
    parser.add_argument('--concurrency', type=int, default=2)
    parser.add_argument(
        '--keep', action='store_true', help='leave the sandbox running'
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    state = layout.FullLayout(args.state_dir)
    sandbox = None
    if not (layout.is_full(state.root) and running(state)):
        sandbox = stack.FullSandbox(state.root, keep=True)
        sandbox.start()
    try:
        return run_tempest(state, args.regex, args.concurrency)
    finally:
        if sandbox is not None and not args.keep:
            sandbox.stop()


if __name__ == '__main__':
    sys.exit(main())
