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

"""``orionx-cyborg sandbox up|down|status|demo``.

``up`` starts the sandbox and stays in the foreground until interrupted
(Ctrl-C, SIGTERM), then stops it; ``up --keep`` leaves it running in the
background and returns, for ``status`` and ``down`` later. ``demo``
starts it, boots one instance of each kind and prints what each got
(:mod:`.demo`); with ``--keep`` it leaves it running. The state
directory defaults to ``$ORIONX_SANDBOX_STATE_DIR`` or ``./sandbox-state``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any
from typing import TextIO

from orionx_cyborg.sandbox import clients
from orionx_cyborg.sandbox import demo
from orionx_cyborg.sandbox import hosts
from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import processes
from orionx_cyborg.sandbox import stack
from orionx_cyborg.sandbox.full import layout as full_layout

STATE_DIR_ENV = 'ORIONX_SANDBOX_STATE_DIR'
DEFAULT_STATE_DIR = 'sandbox-state'

DESCRIPTION = (
    'A small real OpenStack on this machine: Placement, Cyborg (API, '
    'conductor, an agent per host), a Nova stand-in and the OrionX '
    'attach service.'
)
#: Reconcile passes of an interactive sandbox (tests ask for passes).
UP_RECONCILE_INTERVAL = 10

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NOT_RUNNING = 3


def add_commands(commands: Any) -> None:
    """Add ``up``, ``down``, ``status`` and ``demo`` to argparse subparsers.

    Each sets ``handler(args, out) -> int``.
    """
    state = argparse.ArgumentParser(add_help=False)
    state.add_argument(
        '--state-dir',
        default=os.environ.get(STATE_DIR_ENV, DEFAULT_STATE_DIR),
        help='state directory (default: $%s or ./%s)'
        % (STATE_DIR_ENV, DEFAULT_STATE_DIR),
    )
    up_cmd = commands.add_parser(
        'up', parents=[state], help='start the sandbox'
    )
    up_cmd.add_argument(
        '--keep',
        action='store_true',
        help='leave it running in the background and return',
    )
    up_cmd.add_argument(
        '--full',
        action='store_true',
        help='the full profile: real Keystone, Nova, Glance, Neutron and '
        'RabbitMQ, stock Cyborg processes (see the sandbox docs)',
    )
    up_cmd.add_argument(
        '--regions',
        type=int,
        choices=(1, 2),
        default=1,
        help='with --full: 2 adds region RegionTwo, with its own '
        'Placement, Cyborg (one GPU host) and attach service in the same '
        'Keystone (about 0.7 GiB more memory)',
    )
    _mixed_argument(up_cmd)
    _vendordata_argument(up_cmd)
    _attach_arguments(up_cmd)
    up_cmd.add_argument(
        '--debug', action='store_true', help='debug logging in every service'
    )
    up_cmd.set_defaults(handler=up)
    down_cmd = commands.add_parser(
        'down', parents=[state], help='stop the sandbox'
    )
    down_cmd.set_defaults(handler=lambda args, out: down(args.state_dir, out))
    status_cmd = commands.add_parser(
        'status', parents=[state], help='show the sandbox and its processes'
    )
    status_cmd.add_argument(
        '--json', action='store_true', help='machine-readable output'
    )
    status_cmd.set_defaults(
        handler=lambda args, out: status(args.state_dir, args.json, out)
    )
    demo_cmd = commands.add_parser(
        'demo',
        parents=[state],
        help='start the sandbox, boot one instance of each kind, show them',
    )
    demo_cmd.add_argument(
        '--keep',
        action='store_true',
        help='leave it running and print how to reach it',
    )
    demo_cmd.add_argument(
        '--full',
        action='store_true',
        help='on the full profile: real Nova boots a whole-GPU and a '
        'pooled-vGPU server',
    )
    _mixed_argument(demo_cmd)
    _vendordata_argument(demo_cmd)
    demo_cmd.set_defaults(handler=run_demo)


def _mixed_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--mixed',
        action='store_true',
        help='add gpu-server-3: 2x H200, 2x AMD MI300X, 2x Ascend 910B3 '
        'and 2x MTT S4000, one GPU of each GPU vendor in the pool',
    )


def _attach_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--no-attach',
        dest='attach',
        action='store_false',
        help='do not run orionx-cyborg-attach',
    )
    parser.add_argument(
        '--strict-admission',
        action='store_true',
        help="Cyborg's conductor admits pooled vGPUs through the attach "
        'service before binding them (a full pool fails the boot)',
    )
    parser.add_argument(
        '--reconcile-interval',
        type=int,
        default=UP_RECONCILE_INTERVAL,
        metavar='SECONDS',
        help='seconds between reconcile passes of the attach service '
        '(0: only on POST /v1/reconcile; default %(default)s)',
    )


def _attach_options(args: argparse.Namespace) -> dict[str, str]:
    return {'reconcile_interval': str(args.reconcile_interval)}


def _vendordata_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--vendordata-target',
        action='append',
        default=[],
        metavar='NAME@URL',
        help='a Nova DynamicJSON vendordata target (repeat)',
    )


def register(commands: Any) -> argparse.ArgumentParser:
    """Add ``sandbox up|down|status|demo`` to another command's subparsers.

    For ``orionx-cyborg``, whose ``main`` then calls ``args.handler``.
    """
    sandbox = commands.add_parser(
        'sandbox',
        help='Run a small real OpenStack on this machine.',
        description=DESCRIPTION,
    )
    actions = sandbox.add_subparsers(dest='sandbox_command', metavar='ACTION')
    actions.required = True
    add_commands(actions)
    parser: argparse.ArgumentParser = sandbox
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='orionx-cyborg sandbox', description=DESCRIPTION
    )
    actions = parser.add_subparsers(dest='sandbox_command', metavar='ACTION')
    actions.required = True
    add_commands(actions)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args, out)
    return result


def up(args: argparse.Namespace, out: TextIO) -> int:
    if args.full and args.mixed:
        print('--mixed is not available with --full yet', file=out)
        return EXIT_FAILED
    if args.regions != 1 and not args.full:
        print('--regions is available with --full only', file=out)
        return EXIT_FAILED
    if args.full:
        from orionx_cyborg.sandbox.full import cli as full_cli

        return full_cli.up(args, out)
    try:
        sandbox = stack.Sandbox(
            args.state_dir,
            hosts.mixed_fleet() if args.mixed else hosts.orionx_fleet(),
            vendordata_targets=args.vendordata_target,
            debug=args.debug,
            keep=args.keep,
            attach=args.attach,
            attach_options=_attach_options(args),
            strict_admission=args.strict_admission,
        )
        sandbox.start()
    except (stack.SandboxError, processes.ServiceFailed) as err:
        print('sandbox failed to start: %s' % err, file=out)
        return EXIT_FAILED
    print('sandbox ready in %.1fs' % sandbox.timings['ready'], file=out)
    print_summary(sandbox.manifest, out)
    if args.keep:
        print('# openstacksdk:', file=out)
        print(demo.sdk_snippet(sandbox.manifest), file=out)
        print(
            'stop it with: orionx-cyborg sandbox down --state-dir %s'
            % sandbox.state.root,
            file=out,
        )
        return EXIT_OK
    print('press Ctrl-C to stop', file=out, flush=True)
    _wait_for_signal()
    sandbox.stop()
    print('sandbox stopped', file=out)
    return EXIT_OK


def run_demo(args: argparse.Namespace, out: TextIO) -> int:
    if args.full and args.mixed:
        print('--mixed is not available with --full yet', file=out)
        return EXIT_FAILED
    if args.full:
        from orionx_cyborg.sandbox.full import cli as full_cli

        return full_cli.demo(args, out)
    try:
        summary = demo.run(
            args.state_dir,
            keep=args.keep,
            vendordata_targets=args.vendordata_target,
            out=out,
            mixed=args.mixed,
        )
    except (
        stack.SandboxError,
        processes.ServiceFailed,
        demo.DemoFailed,
        clients.ApiError,
    ) as err:
        print('sandbox demo failed: %s' % err, file=out)
        return EXIT_FAILED
    if any(view.status != 'ACTIVE' for view in summary.instances):
        return EXIT_FAILED
    return EXIT_OK


def _stop_waiting(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _wait_for_signal() -> None:
    signal.signal(signal.SIGTERM, _stop_waiting)
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        return


def down(state_dir: str, out: TextIO) -> int:
    if full_layout.is_full(state_dir):
        from orionx_cyborg.sandbox.full import cli as full_cli

        return full_cli.down(state_dir, out)
    stopped = stack.stop_recorded(state_dir)
    for record in stopped:
        print('stopped %s (pid %d)' % (record.name, record.pid), file=out)
    if not stopped:
        print('no sandbox running in %s' % state_dir, file=out)
    return EXIT_OK


def status(state_dir: str, as_json: bool, out: TextIO) -> int:
    if full_layout.is_full(state_dir):
        from orionx_cyborg.sandbox.full import cli as full_cli

        return full_cli.status(state_dir, as_json, out)
    state = layout.StateLayout(state_dir)
    records = processes.load_records(state.processes)
    try:
        manifest = state.read_manifest()
    except FileNotFoundError:
        manifest = None
    report = _status_report(manifest, records)
    if as_json:
        print(json.dumps(report, indent=2), file=out)
    else:
        _print_status(report, manifest, out)
    running = [p for p in report['processes'] if p['running']]
    if not records or not running:
        return EXIT_NOT_RUNNING
    healthy = all(p['running'] for p in report['processes']) and all(
        report['endpoints'].values()
    )
    return EXIT_OK if healthy else EXIT_FAILED


def _status_report(
    manifest: layout.Manifest | None,
    records: Sequence[processes.ProcessRecord],
) -> dict[str, Any]:
    report: dict[str, Any] = {
        'processes': [
            {
                'name': r.name,
                'pid': r.pid,
                'running': processes.is_running(r),
                'log': r.log,
            }
            for r in records
        ],
        'endpoints': {},
        'hosts': [],
    }
    if manifest is None or not records:
        return report
    report['endpoints'] = {
        name: _answers(url) for name, url in _endpoints(manifest).items()
    }
    report['hosts'] = [
        {
            'name': h.name,
            'drivers': list(h.drivers),
            'description': h.description,
        }
        for h in manifest.hosts
    ]
    report['environment'] = stack.cli_environment(manifest)
    return report


def _endpoints(manifest: layout.Manifest) -> dict[str, str]:
    endpoints = {
        'placement': manifest.placement_url,
        'cyborg': manifest.cyborg_url,
        'nova': manifest.nova_url,
    }
    if manifest.attach_url is not None:
        endpoints['attach'] = manifest.attach_url
    return endpoints


def _answers(url: str) -> bool:
    try:
        clients.plain(url, timeout=2.0).request('GET', '', expect=(200,))
    except (clients.ApiError, OSError):
        return False
    return True


def _print_status(
    report: dict[str, Any], manifest: layout.Manifest | None, out: TextIO
) -> None:
    if not report['processes']:
        print('no sandbox recorded', file=out)
        return
    for proc in report['processes']:
        print(
            '%-10s pid %-7d %s'
            % (
                proc['name'],
                proc['pid'],
                'running' if proc['running'] else 'NOT RUNNING',
            ),
            file=out,
        )
    for name, ok in report['endpoints'].items():
        print(
            '%-10s %s' % (name, 'answers' if ok else 'NOT ANSWERING'), file=out
        )
    if manifest is not None:
        print_summary(manifest, out)


def print_summary(manifest: layout.Manifest, out: TextIO) -> None:
    for name, url in _endpoints(manifest).items():
        print('%-10s %s' % (name, url), file=out)
    for host in manifest.hosts:
        print(
            'host       %s (%s) %s'
            % (host.name, ', '.join(host.drivers), host.description),
            file=out,
        )
    for target in manifest.vendordata_targets:
        print('vendordata %s' % target, file=out)
    if manifest.strict_admission:
        print('admission  strict (Cyborg asks the attach service)', file=out)
    print('logs       %s' % os.path.join(manifest.state_dir, 'logs'), file=out)
    print('# for the openstack CLI:', file=out)
    for key, value in stack.cli_environment(manifest).items():
        print('export %s=%s' % (key, value), file=out)
