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
prints passed, skipped and failed per suite, and stops the sandbox it
started. By default three runs (:data:`DEFAULT_RUNS`): the API tests of
cyborg-tempest-plugin, those of orionx-cyborg's own plugin
(``orionx_cyborg_tempest_plugin``), then orionx-cyborg's scenario tests
one at a time (evacuate stops a compute service, which a server booted
beside it must not meet). Exit status:
0 when every run passed.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import io
import logging
import os
import re
import subprocess
import sys
from collections.abc import Sequence

from orionx_cyborg.sandbox import processes
from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import stack

#: (suite name, pattern of its test ids)
SUITES = (
    ('cyborg-tempest-plugin', re.compile(r'(?<!\w)cyborg_tempest_plugin\.')),
    ('orionx-cyborg', re.compile(r'(?<!\w)orionx_cyborg_tempest_plugin\.')),
)
CYBORG_API_REGEX = r'^cyborg_tempest_plugin\.tests\.api'
ORIONX_API_REGEX = r'^orionx_cyborg_tempest_plugin\.tests\.api'
SCENARIO_REGEX = r'^orionx_cyborg_tempest_plugin\.tests\.scenario'
#: The runs of a plain ``tox -e tempest``: (regex, concurrency or None
#: for --concurrency's value). One suite at a time: cyborg-tempest-
#: plugin deletes device profiles that its ARQs still name, and while
#: such an ARQ exists Cyborg answers 404 to every ARQ listing
#: (cyborg.objects.ext_arq.ExtARQ._fill_obj_extarq_fields), which fails
#: the attach service's reconcile passes that run beside it.
DEFAULT_RUNS: tuple[tuple[str, int | None], ...] = (
    (CYBORG_API_REGEX, None),
    (ORIONX_API_REGEX, None),
    (SCENARIO_REGEX, 1),
)
DEFAULT_REGEX = CYBORG_API_REGEX
TIMEOUT = 1800
OUTCOMES = {
    'success': 'passed',
    'xfail': 'passed',
    'skip': 'skipped',
    'fail': 'failed',
    'uxsuccess': 'failed',
}


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


def last_run_subunit(state: layout.FullLayout) -> bytes:
    """The subunit stream of the last ``tempest run`` in the workdir."""
    done = subprocess.run(  # noqa: S603 - stestr of this environment
        [sys.executable, '-m', 'stestr', 'last', '--subunit'],
        cwd=state.root / 'tempest',
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.stdout


def outcomes(stream: bytes) -> dict[str, str]:
    """Test id -> passed, skipped or failed, from a subunit v2 stream."""
    import subunit
    import testtools
    from testtools.testresult.real import TestDict

    found: dict[str, str] = {}

    def collect(test: TestDict) -> None:
        if test['id'] and test['status'] in OUTCOMES:
            found[test['id']] = OUTCOMES[test['status']]

    result = testtools.StreamToDict(collect)
    result.startTestRun()
    subunit.ByteStreamToStreamResult(
        io.BytesIO(stream), non_subunit_name='stdout'
    ).run(result)
    result.stopTestRun()
    return found


@dataclasses.dataclass
class Counts:
    passed: int = 0
    skipped: int = 0
    failed: int = 0


def suite_counts(results: dict[str, str]) -> dict[str, Counts]:
    """Counts per suite of :data:`SUITES` (``other`` for the rest)."""
    counts: dict[str, Counts] = collections.defaultdict(Counts)
    for test_id, outcome in results.items():
        suite = next(
            (name for name, pattern in SUITES if pattern.search(test_id)),
            'other',
        )
        target = counts[suite]
        setattr(target, outcome, getattr(target, outcome) + 1)
    return dict(counts)


def report(counts: dict[str, Counts]) -> str:
    lines = ['%-24s %7s %8s %7s' % ('suite', 'passed', 'skipped', 'failed')]
    for name in sorted(counts):
        c = counts[name]
        lines.append(
            '%-24s %7d %8d %7d' % (name, c.passed, c.skipped, c.failed)
        )
    return '\n'.join(lines)


def running(state: layout.FullLayout) -> bool:
    records = processes.load_records(state.processes)
    return bool(records) and all(processes.is_running(r) for r in records)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='tempest_run')
    parser.add_argument(
        '--state-dir',
        default=os.environ.get('ORIONX_SANDBOX_STATE_DIR', 'sandbox-full'),
    )
    parser.add_argument(
        '--regex',
        help='one run of these tests instead of the default runs '
        '(both plugins\' API tests, then orionx-cyborg\'s scenarios)',
    )
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
    runs = (
        ((args.regex, args.concurrency),)
        if args.regex
        else tuple((r, c or args.concurrency) for r, c in DEFAULT_RUNS)
    )
    try:
        status = 0
        results: dict[str, str] = {}
        for regex, concurrency in runs:
            status = run_tempest(state, regex, concurrency) or status
            results.update(outcomes(last_run_subunit(state)))
        print(report(suite_counts(results)), flush=True)
        return status
    finally:
        if sandbox is not None and not args.keep:
            sandbox.stop()


if __name__ == '__main__':
    sys.exit(main())
