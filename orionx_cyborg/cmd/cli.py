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

"""``orionx-cyborg``: the operator's command line.

``discover`` shows what ``orionx_gpu_driver`` would report on this host,
without any Cyborg service; ``gpu forget`` and ``gpu reset-health`` talk
to a running driver through its state file; ``catalogue`` lists the GPU
models and hosts the simulation knows.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any
from typing import TextIO

import stevedore
from oslo_config import cfg

from orionx_cyborg import exception
from orionx_cyborg.accelerator import discovery
from orionx_cyborg.accelerator import settings as settings_mod
from orionx_cyborg.accelerator import spec
from orionx_cyborg.accelerator import state as state_mod
from orionx_cyborg.accelerator import usage as usage_mod
from orionx_cyborg.cmd import output
from orionx_cyborg.gpu import models

#: Entry point group of command plugins (the sandbox registers there).
COMMANDS_NAMESPACE = 'orionx_cyborg.cli.commands'

#: Sub-command name -> (help, argument builder, handler).
Command = Callable[[argparse.Namespace, TextIO], int]


def _load_conf(args: argparse.Namespace) -> cfg.ConfigOpts:
    """The agent's configuration, as the driver would read it."""
    conf = cfg.ConfigOpts()
    conf.register_opts(
        [
            cfg.StrOpt(
                'host',
                default=socket.gethostname(),
                help='Cyborg [DEFAULT] host.',
            ),
            cfg.StrOpt(
                'state_path',
                default='/var/lib/cyborg',
                help='Cyborg [DEFAULT] state_path.',
            ),
        ]
    )
    from orionx_cyborg import conf as orionx_conf

    orionx_conf.register_opts(conf)
    files: list[str] = []
    for path in args.config_file or ():
        files += ['--config-file', path]
    conf(
        files, project='cyborg', default_config_files=None if not files else []
    )
    if getattr(args, 'host', None):
        conf.set_override('host', args.host)
    if getattr(args, 'simulate', None):
        conf.set_override('fake_topology', args.simulate, 'orionx_gpu')
    return conf


def _settings(
    args: argparse.Namespace,
) -> tuple[cfg.ConfigOpts, settings_mod.DriverSettings]:
    conf = _load_conf(args)
    settings = settings_mod.register_and_load(conf, conf.state_path)
    if getattr(args, 'simulate', None) and not args.state_dir:
        # A preview of a simulated host must not touch a real agent's
        # state; it renders its sysfs tree in a private directory.
        import tempfile

        args.state_dir = tempfile.mkdtemp(prefix='orionx-discover-')
    if getattr(args, 'state_dir', None):
        conf.set_override('state_dir', args.state_dir, 'orionx_gpu')
        settings = settings_mod.register_and_load(conf, conf.state_path)
    return conf, settings


# discover -----------------------------------------------------------------


def cmd_discover(args: argparse.Namespace, out: TextIO) -> int:
    conf, settings = _settings(args)
    reporter = discovery.build_reporter(
        conf.host, settings, usage=usage_mod.no_usage, persist=False
    )
    try:
        result = reporter.run()
    finally:
        reporter.backend.close()
    if args.json:
        json.dump(
            _discover_document(conf.host, result),
            out,
            indent=2,
            sort_keys=True,
        )
        out.write('\n')
    else:
        _print_discovery(conf.host, result, out)
    return 0


def _discover_document(
    host: str, result: discovery.DiscoveryResult
) -> dict[str, Any]:
    inventory = result.inventory
    return {
        'host': host,
        'backend': inventory.backend if inventory else None,
        'driver_version': inventory.driver_version if inventory else None,
        'nvml_failure': result.failure,
        'gpus': [
            dict(
                models.to_jsonable(gpu),
                mode=result.modes.get(
                    str(gpu.pci_address), settings_mod.Mode.OFF
                ).value
                if str(gpu.pci_address) in result.modes
                else 'conflict',
            )
            for gpu in (inventory.gpus if inventory else ())
        ],
        'unreachable': models.to_jsonable(
            inventory.unreachable if inventory else ()
        ),
        'devices': [_device_document(d) for d in result.report.devices],
        'warnings': list(result.report.warnings),
    }


def _device_document(device: spec.DeviceSpec) -> dict[str, Any]:
    return {
        'key': device.key,
        'vendor': device.vendor,
        'model': device.model,
        'type': device.device_type,
        'stub': device.stub,
        'controlpath': {'type': 'PCI', 'info': device.cpid_info},
        'std_board_info': json.loads(device.std_board_info),
        'vendor_board_info': device.board_info(),
        'deployables': [
            {
                'name': d.name,
                'resource_class': d.resource_class,
                'total': d.total,
                'traits': list(d.trait_names),
                'attach_handles': [
                    {'type': h.attach_type, 'info': json.loads(h.attach_info)}
                    for h in d.attach_handles
                ],
            }
            for d in device.deployables
        ],
    }


def _print_discovery(
    host: str, result: discovery.DiscoveryResult, out: TextIO
) -> None:
    inventory = result.inventory
    if inventory is None:
        out.write('Host %s: NVML unavailable.\n' % host)
    else:
        gpu_rows: list[tuple[str, ...]]
        out.write(
            'Host %s: %d GPU(s) via %s, driver %s\n\n'
            % (
                host,
                len(inventory.gpus),
                inventory.backend,
                inventory.driver_version or '-',
            )
        )
        gpu_rows = [
            (
                str(gpu.index),
                str(gpu.pci_address),
                gpu.name,
                '%d MiB' % gpu.memory_mib,
                result.modes[str(gpu.pci_address)].value
                if str(gpu.pci_address) in result.modes
                else 'conflict',
                'MIG' if gpu.mig_enabled else '-',
                gpu.host_vgpu_mode.value,
                gpu.health.state.value,
            )
            for gpu in inventory.gpus
        ]
        output.print_table(
            gpu_rows,
            (
                'IDX',
                'PCI',
                'MODEL',
                'MEMORY',
                'MODE',
                'MIG',
                'VGPU HOST',
                'HEALTH',
            ),
            out,
        )
    out.write('\nReported to Cyborg (one resource provider each):\n')
    rows: list[tuple[str, ...]] = []
    for device in result.report.devices:
        for d in device.deployables:
            handles = sorted({h.attach_type for h in d.attach_handles})
            rows.append(
                (
                    d.name + (' (stub)' if device.stub else ''),
                    d.resource_class,
                    str(d.total),
                    '%d %s' % (len(d.attach_handles), '/'.join(handles))
                    if handles
                    else '-',
                    ','.join(
                        t
                        for t in d.trait_names
                        if t not in ('OWNER_CYBORG', 'CUSTOM_GPU_NVIDIA')
                    ),
                )
            )
    output.print_table(
        rows,
        ('DEPLOYABLE', 'RESOURCE CLASS', 'TOTAL', 'HANDLES', 'TRAITS'),
        out,
    )
    if result.report.warnings:
        out.write('\nWarnings:\n')
        for warning in result.report.warnings:
            out.write('  - %s\n' % warning)


# gpu forget / reset-health ---------------------------------------------


def _store(args: argparse.Namespace) -> state_mod.StateStore:
    conf, settings = _settings(args)
    return state_mod.StateStore(settings.state_dir, conf.host)


def _find_address(state: state_mod.DriverState, selector: str) -> str:
    for device in state.devices.values():
        address = device.pci_address
        if address is None:
            continue
        uuid = json.loads(device.std_board_info).get('uuid', '')
        if selector.lower() in (address, uuid.lower()):
            return address
    if models.PciAddress.is_valid(selector):
        return str(models.PciAddress.parse(selector))
    raise exception.OrionXException(
        'No reported GPU matches %r (give its PCI address or UUID).' % selector
    )


def cmd_gpu_forget(args: argparse.Namespace, out: TextIO) -> int:
    store = _store(args)
    with store.locked():
        state = store.load()
        address = _find_address(state, args.gpu)
        store.save(
            state_mod.DriverState(
                devices=state.devices,
                sticky_health=state.sticky_health,
                forget=state.forget | {address},
            )
        )
    out.write(
        'GPU %s will stop being reported at the next agent cycle if it is '
        'lost and holds no allocation; the agent log says when.\n' % address
    )
    return 0


def cmd_gpu_reset_health(args: argparse.Namespace, out: TextIO) -> int:
    store = _store(args)
    with store.locked():
        state = store.load()
        address = _find_address(state, args.gpu)
        sticky = dict(state.sticky_health)
        cleared = sticky.pop(address, ())
        store.save(
            state_mod.DriverState(
                devices=state.devices,
                sticky_health=sticky,
                forget=state.forget,
            )
        )
    out.write(
        'Cleared %s for GPU %s; the next agent cycle reports its current '
        'health.\n' % (', '.join(cleared) or 'nothing', address)
    )
    return 0


# catalogue ----------------------------------------------------------------


def cmd_catalogue(args: argparse.Namespace, out: TextIO) -> int:
    from orionx_cyborg.gpu.fake import catalogue
    from orionx_cyborg.gpu.fake import topology

    rows = [
        (
            model.key,
            model.name,
            '%04x' % model.pci_device_id,
            '%d MiB' % model.memory_mib,
            '%d.%d' % model.compute_capability,
            str(len(model.mig_profiles)),
            model.vgpu_framework.value,
            str(len(model.vgpu_types)),
        )
        for model in catalogue.MODELS.values()
    ]
    output.print_table(
        rows,
        (
            'MODEL',
            'NVML NAME',
            'PCI ID',
            'MEMORY',
            'CC',
            'MIG PROFILES',
            'VGPU',
            'VGPU TYPES',
        ),
        out,
    )
    _print_other_vendors(out)
    out.write('\nBuilt-in simulated hosts ([orionx_gpu] fake_topology):\n')
    for name in sorted(topology.BUILTIN_HOSTS):
        host = topology.load(name)
        models_here = sorted({gpu.model.key for gpu in host.gpus})
        others = host.amd_gpus + host.ascend_cards + host.mthreads_gpus
        models_here += sorted(
            '%dx %s' % (int(item.get('count', 1)), item['model'])
            for item in others
        )
        out.write(
            '  %-14s %d GPU(s) %s\n'
            % (name, len(host.gpus), ', '.join(models_here))
        )
    return 0


def _print_other_vendors(out: TextIO) -> None:
    """The simulated models of AMD, Huawei Ascend and Moore Threads."""
    from orionx_cyborg.gpu.fake import amd
    from orionx_cyborg.gpu.fake import ascend
    from orionx_cyborg.gpu.fake import mthreads

    out.write('\nAMD Instinct (AMD SMI; topology key amd_gpus):\n')
    output.print_table(
        [
            (
                m.key,
                m.market_name,
                '1002:%04x' % m.pci_device_id,
                '%d MiB' % m.memory_mib,
                '/'.join(p.name for p in m.compute_partitions) or '-',
                '/'.join(p.name for p in m.memory_partitions) or '-',
            )
            for m in amd.MODELS.values()
        ],
        ('MODEL', 'NAME', 'PCI ID', 'MEMORY', 'COMPUTE', 'MEMORY MODES'),
        out,
    )
    out.write('\nHuawei Ascend (DCMI; topology key ascend_cards):\n')
    output.print_table(
        [
            (
                m.key,
                m.chip_type + m.chip_name,
                '19e5:%04x' % m.pci_device_id,
                '%d MiB' % m.memory_mib,
                str(m.chips_per_card),
                ','.join(t[0] for t in ascend_seam_templates(m.chip_name))
                or '-',
            )
            for m in ascend.MODELS.values()
        ],
        ('MODEL', 'NAME', 'PCI ID', 'MEMORY', 'CHIPS', 'VNPU TEMPLATES'),
        out,
    )
    out.write('\nMoore Threads (MTML; topology key mthreads_gpus):\n')
    output.print_table(
        [
            (
                m.key,
                m.name,
                '1ed5:%04x (placeholder)' % m.pci_device_id,
                '%d MiB' % m.memory_mib,
            )
            for m in mthreads.MODELS.values()
        ],
        ('MODEL', 'NAME', 'PCI ID', 'MEMORY'),
        out,
    )


def ascend_seam_templates(chip_name: str) -> tuple[tuple[str, int, int], ...]:
    from orionx_cyborg.gpu import ascend

    return ascend.VNPU_TEMPLATES.get(chip_name, (0, ()))[1]


# Parser --------------------------------------------------------------------


def _config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--config-file',
        action='append',
        metavar='PATH',
        help='Cyborg agent configuration to read (repeatable); by default '
        'the files oslo.config finds for cyborg '
        '(/etc/cyborg/cyborg.conf).',
    )
    parser.add_argument('--host', help='Override [DEFAULT] host.')
    parser.add_argument(
        '--state-dir',
        help='Override [orionx_gpu] state_dir.',
    )


def build_parser(
    extra: Callable[[Any], None] | None = None,
) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='orionx-cyborg',
        description='GPU pooling for OpenStack Cyborg: operator tools.',
    )
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    commands.required = True

    discover = commands.add_parser(
        'discover',
        help='Show what orionx_gpu_driver would report on this host.',
    )
    _config_arguments(discover)
    discover.add_argument(
        '--simulate',
        metavar='HOST|FILE',
        help='Simulate the GPUs: a built-in host (see "catalogue") or a '
        'topology file.',
    )
    discover.add_argument(
        '--json', action='store_true', help='Print JSON for scripts.'
    )
    discover.set_defaults(handler=cmd_discover)

    gpu = commands.add_parser('gpu', help='Act on a reported GPU.')
    gpu_commands = gpu.add_subparsers(dest='gpu_command', metavar='ACTION')
    gpu_commands.required = True
    forget = gpu_commands.add_parser(
        'forget',
        help='Stop reporting a lost GPU once it holds no allocation.',
    )
    reset = gpu_commands.add_parser(
        'reset-health',
        help='Clear sticky health marks (Xid errors) of a GPU.',
    )
    for sub, handler in (
        (forget, cmd_gpu_forget),
        (reset, cmd_gpu_reset_health),
    ):
        _config_arguments(sub)
        sub.add_argument('gpu', help='PCI address or UUID of the GPU.')
        sub.set_defaults(handler=handler)

    catalogue_cmd = commands.add_parser(
        'catalogue', help='List the GPU models and hosts it can simulate.'
    )
    catalogue_cmd.set_defaults(handler=cmd_catalogue)
    if extra is not None:
        extra(commands)
    return parser


def _extra_commands(commands: Any) -> None:
    from orionx_cyborg.cmd import operator

    # The sandbox registers its commands through an entry point: the
    # production commands never import it.
    manager: Any = stevedore.ExtensionManager(
        COMMANDS_NAMESPACE, invoke_on_load=False
    )
    for extension in sorted(manager, key=lambda ext: ext.name):
        extension.plugin(commands)
    operator.register(commands)


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = build_parser(extra=_extra_commands)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args, out))
    except (exception.OrionXException, cfg.Error) as err:
        sys.stderr.write('orionx-cyborg: error: %s\n' % err)
        return 2


if __name__ == '__main__':
    sys.exit(main())
