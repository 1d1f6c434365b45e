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

"""``orionx-cyborg sandbox up|down|status --full``.

``up --full`` starts the full profile (:mod:`.stack`); ``down`` and
``status`` find out from the state directory which profile runs there.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any
from typing import TextIO

from orionx_cyborg.sandbox import processes
from orionx_cyborg.sandbox.full import layout
from orionx_cyborg.sandbox.full import rabbit
from orionx_cyborg.sandbox.full import stack

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_RUNNING = 3


def up(args: argparse.Namespace, out: TextIO) -> int:
    logging.basicConfig(
        level=logging.INFO, format='%(message)s', stream=sys.stderr
    )
    sandbox = stack.FullSandbox(
        args.state_dir, keep=args.keep, regions=getattr(args, 'regions', 1)
    )
    try:
        sandbox.start()
    except (
        stack.FullSandboxError,
        processes.ServiceFailed,
        rabbit.RabbitMQMissing,
    ) as err:
        print('sandbox failed to start: %s' % err, file=out)
        return EXIT_FAILED
    print('full sandbox ready in %.1fs' % sandbox.timings['ready'], file=out)
    print_summary(sandbox.state, out)
    if args.keep:
        print(
            'stop it with: orionx-cyborg sandbox down --state-dir %s'
            % sandbox.state.root,
            file=out,
        )
        return EXIT_OK
    print('press Ctrl-C to stop', file=out, flush=True)
    from orionx_cyborg.sandbox import cli as light_cli

    light_cli._wait_for_signal()
    sandbox.stop()
    print('sandbox stopped', file=out)
    return EXIT_OK


def demo(args: argparse.Namespace, out: TextIO) -> int:
    from orionx_cyborg.sandbox.full import demo as demo_mod

    logging.basicConfig(
        level=logging.INFO, format='%(message)s', stream=sys.stderr
    )
    try:
        return demo_mod.run(args.state_dir, args.keep, out)
    except Exception as err:
        # Whatever failed (a service, a boot, an API): one line, exit 1.
        print('sandbox demo failed: %s' % err, file=out)
        return EXIT_FAILED


def print_summary(state: layout.FullLayout, out: TextIO) -> None:
    for entry in stack.service_status(state.root):
        print(
            '%-28s pid %-7d %s'
            % (entry['name'], entry['pid'], entry['url'] or ''),
            file=out,
        )
    print('logs       %s' % state.logs, file=out)
    print('clouds     %s' % state.clouds_yaml, file=out)
    print('tempest    %s' % state.tempest_conf, file=out)
    print(
        '# e.g.: OS_CLIENT_CONFIG_FILE=%s openstack --os-cloud demo '
        'server list' % state.clouds_yaml,
        file=out,
    )


def down(state_dir: str, out: TextIO) -> int:
    stopped = stack.stop_recorded(state_dir)
    for record in stopped:
        print('stopped %s (pid %d)' % (record.name, record.pid), file=out)
    if not stopped:
        print('no sandbox running in %s' % state_dir, file=out)
    return EXIT_OK


def status(state_dir: str, as_json: bool, out: TextIO) -> int:
    state = layout.FullLayout(state_dir)
    services = stack.service_status(state_dir)
    report: dict[str, Any] = {
        'profile': 'full',
        'services': services,
        'clouds_yaml': str(state.clouds_yaml),
        'tempest_conf': str(state.tempest_conf),
        'logs': str(state.logs),
    }
    if as_json:
        print(json.dumps(report, indent=2), file=out)
    else:
        for entry in services:
            print(
                '%-28s pid %-7d %-12s %s'
                % (
                    entry['name'],
                    entry['pid'],
                    'running' if entry['running'] else 'NOT RUNNING',
                    entry['url'] or '',
                ),
                file=out,
            )
    if not any(entry['running'] for entry in services):
        return EXIT_NOT_RUNNING
    return EXIT_OK if all(e['running'] for e in services) else EXIT_FAILED
