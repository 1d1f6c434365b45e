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

"""discover() cost: orionx_gpu_driver beside Cyborg's nvidia_gpu_driver.

Both drivers run against the same simulated host: ours through the real
pynvml bindings over the simulated libnvidia-ml and the rendered sysfs
tree; Cyborg's in-tree driver over a fake ``lspci`` first on ``PATH``
(privsep in-process) and, for vGPU, the same sysfs tree bind-mounted over
``/sys/bus/pci/devices`` in a private mount namespace (``unshare -m``,
root only; skipped otherwise).

Scenarios, for hosts of 1, 8 and 64 GPUs:

* ``passthrough``: H200 GPUs (with the vGPU manager, some in MIG mode and
  some with vGPU virtual functions) all reported as whole GPUs: the report
  both drivers can make;
* ``mixed``: the same hosts with a quarter passthrough, the GPUs with VFs
  as vGPU types and the rest pool members plus an entitlement (ours only:
  the in-tree driver has no SR-IOV vGPU, MIG or pool);
* ``mdev``: T4 GPUs reporting the mdev vGPU type T4-4Q (both drivers).

Figures: median wall time of a steady-state discover() (after one warm-up
call), the first call, and the library calls per GPU (NVML calls counted
by the simulated library; the in-tree driver runs one lspci per call and
reads sysfs files). The simulated NVML is Python: on a real GPU each NVML
call costs what the driver's ioctls cost, so the call count is the figure
that carries over.

Usage::

    python benchmarks/discover/bench_discover.py [--repeat N]
        [--sizes 1,8,64] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

from oslo_config import cfg

HOST = 'bench-host'


def h200_host(count: int) -> Any:
    from orionx_cyborg.gpu.fake import topology

    gpus = []
    for position in range(count):
        item: dict[str, Any] = {'model': 'H200-SXM5-141GB'}
        if position % 8 == 7:
            item['mig_devices'] = ['3g.71gb', '2g.35gb', '1g.18gb']
        elif position % 4 == 1:
            item['vf_vgpu_types'] = ['NVIDIA H200X-35C'] * 4
        gpus.append(item)
    return topology.host_from_mapping(
        HOST, {'vgpu_manager': True, 'gpus': gpus}
    )


def t4_host(count: int) -> Any:
    from orionx_cyborg.gpu.fake import topology

    return topology.host_from_mapping(
        HOST, {'vgpu_manager': True, 'gpus': [{'model': 'T4', 'count': count}]}
    )


def addresses(host: Any) -> list[str]:
    return [gpu.pci_address for gpu in host.gpus]


# orionx_gpu_driver ------------------------------------------------------


def orionx_conf(
    topology_path: str, state_dir: str, **groups: dict[str, Any]
) -> cfg.ConfigOpts:
    from orionx_cyborg import conf as orionx

    conf = cfg.ConfigOpts()
    conf.register_opts(
        [
            cfg.StrOpt('host', default=HOST),
            cfg.StrOpt('state_path', default=state_dir),
        ]
    )
    orionx.register_opts(conf)
    conf([], project='orionx-bench', default_config_files=[])
    conf.set_override('fake_topology', topology_path, 'orionx_gpu')
    conf.set_override('state_dir', state_dir, 'orionx_gpu')
    for group, values in groups.items():
        for name, value in values.items():
            conf.set_override(name, value, group)
    return conf


def run_orionx(
    host: Any, scenario: str, repeat: int, workdir: str
) -> dict[str, Any]:
    from orionx_cyborg.accelerator import driver
    from orionx_cyborg.gpu.fake import topology

    path = os.path.join(workdir, 'topology-%s.yaml' % scenario)
    topology.dump(host, path)
    all_addresses = addresses(host)
    if scenario == 'passthrough':
        groups: dict[str, dict[str, Any]] = {
            'orionx_gpu': {'default_mode': 'passthrough'}
        }
    elif scenario == 'mdev':
        groups = {
            'orionx_gpu': {
                'default_mode': 'vgpu',
                'enabled_vgpu_types': ['T4-4Q'],
            }
        }
    else:
        vgpu = [g.pci_address for g in host.gpus if g.vf_vgpu_types]
        passthrough = [a for i, a in enumerate(all_addresses) if i % 4 == 0]
        groups = {
            'orionx_gpu': {
                'default_mode': 'pool',
                'passthrough_devices': passthrough,
                'vgpu_devices': vgpu,
                'enabled_vgpu_types': ['NVIDIA H200X-35C'],
            },
            'orionx_pool': {'entitlement': 8},
        }
    state_dir = tempfile.mkdtemp(dir=workdir)
    conf = orionx_conf(path, state_dir, **groups)
    drv = driver.OrionXGPUDriver(
        conf=conf, usage=lambda names: {n: 0 for n in names}
    )
    # Render the simulated sysfs tree first: it stands for the kernel, and
    # is not the driver's cost.
    drv._reporter.backend.refresh()
    started = time.perf_counter()
    devices = drv.discover()
    first = time.perf_counter() - started
    library = drv._reporter.backend.library
    before = sum(library.calls.values())
    drv.discover()
    calls = sum(library.calls.values()) - before
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        drv.discover()
        timings.append(time.perf_counter() - started)
    return {
        'first_s': first,
        'median_s': statistics.median(timings),
        'devices': len(devices),
        'deployables': sum(len(d.deployable_list) for d in devices),
        'nvml_calls_per_gpu': calls / max(len(host.gpus), 1),
    }


# Cyborg's nvidia_gpu_driver ---------------------------------------------


def lspci_script(host: Any, directory: str) -> str:
    names = {
        0x2335: 'GH100 [H200 SXM 141GB]',
        0x1EB8: 'TU104GL [Tesla T4]',
    }
    lines = [
        '%s 3D controller [0302]: NVIDIA Corporation %s [10de:%04x] '
        '(rev a1)'
        % (
            gpu.pci_address,
            names[gpu.model.pci_device_id],
            gpu.model.pci_device_id,
        )
        for gpu in host.gpus
    ]
    # A few unrelated devices, as any host has.
    lines[:0] = [
        '0000:00:00.0 Host bridge [0600]: Intel Corporation Device '
        '[8086:09a2] (rev 04)',
        '0000:03:00.0 Ethernet controller [0200]: Mellanox Technologies '
        'MT2892 Family [ConnectX-6 Dx] [15b3:101d]',
    ]
    path = os.path.join(directory, 'lspci')
    with open(path, 'w') as stream:
        stream.write('#!/bin/sh\ncat <<"EOF"\n%s\nEOF\n' % '\n'.join(lines))
    os.chmod(path, 0o755)
    return directory


def intree_worker(args: argparse.Namespace) -> None:
    """Runs inside the (possibly private-mount) child process."""
    os.environ['PATH'] = args.lspci_dir + os.pathsep + os.environ['PATH']
    # isort: off
    # cyborg.tests first: it selects oslo.service's threading backend.
    import cyborg.tests  # noqa: F401
    import cyborg.privsep
    from cyborg.accelerator.drivers.gpu.nvidia import driver
    from cyborg.conf import CONF

    # isort: on

    CONF(
        [] if not args.cyborg_conf else ['--config-file', args.cyborg_conf],
        project='cyborg',
        default_config_files=[],
    )
    CONF.set_override('host', HOST)
    cyborg.privsep.sys_admin_pctxt.set_client_mode(False)
    drv = driver.NVIDIAGPUDriver()
    started = time.perf_counter()
    devices = drv.discover()
    first = time.perf_counter() - started
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        drv.discover()
        timings.append(time.perf_counter() - started)
    json.dump(
        {
            'first_s': first,
            'median_s': statistics.median(timings),
            'devices': len(devices),
            'deployables': sum(len(d.deployable_list) for d in devices),
            'nvml_calls_per_gpu': 0,
        },
        sys.stdout,
    )


def run_intree(
    host: Any, scenario: str, repeat: int, workdir: str
) -> dict[str, Any] | str:
    from orionx_cyborg.gpu.fake import sysfs as fake_sysfs

    if scenario == 'mixed':
        return 'cannot report MIG, SR-IOV vGPU or pool'
    directory = tempfile.mkdtemp(dir=workdir)
    lspci_script(host, directory)
    command = [
        sys.executable,
        os.path.abspath(__file__),
        '--worker',
        '--lspci-dir',
        directory,
        '--repeat',
        str(repeat),
    ]
    if scenario == 'mdev':
        conf_path = os.path.join(directory, 'cyborg.conf')
        with open(conf_path, 'w') as stream:
            stream.write(
                '[gpu_devices]\nenabled_vgpu_types = nvidia-224\n'
                '[vgpu_nvidia-224]\ndevice_addresses = %s\n'
                % ','.join(addresses(host))
            )
        command += ['--cyborg-conf', conf_path]
        root = os.path.join(directory, 'sys')
        fake_sysfs.write_tree(host, root)
        if os.geteuid() != 0 or not shutil.which('unshare'):
            return 'needs root to mount the simulated sysfs on /sys'
        devices = os.path.join(root, 'bus', 'pci', 'devices')
        command = [
            'unshare',
            '-m',
            'sh',
            '-c',
            'mount --bind "$0" /sys/bus/pci/devices && exec "$@"',
            devices,
        ] + command
    output = subprocess.run(
        command, check=True, capture_output=True, text=True
    )
    result: dict[str, Any] = json.loads(output.stdout)
    return result


# Orchestration ----------------------------------------------------------


def measure(sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    rows = []
    workdir = tempfile.mkdtemp(prefix='bench-discover-')
    try:
        for size in sizes:
            for scenario in ('passthrough', 'mixed', 'mdev'):
                host = t4_host(size) if scenario == 'mdev' else h200_host(size)
                ours = run_orionx(host, scenario, repeat, workdir)
                theirs = run_intree(host, scenario, repeat, workdir)
                rows.append(
                    {
                        'gpus': size,
                        'scenario': scenario,
                        'orionx': ours,
                        'in_tree': theirs,
                    }
                )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        'GPUs',
        'scenario',
        'orionx median',
        'in-tree median',
        'ratio',
        'orionx 1st',
        'in-tree 1st',
        'NVML calls/GPU',
        'RPs (ours/in-tree)',
    )
    print('  '.join('%-14s' % h for h in header))
    for row in rows:
        ours, theirs = row['orionx'], row['in_tree']
        if isinstance(theirs, dict):
            ratio = '%.2fx' % (ours['median_s'] / theirs['median_s'])
            theirs_median = '%.2f ms' % (theirs['median_s'] * 1e3)
            theirs_first = '%.2f ms' % (theirs['first_s'] * 1e3)
            rps = '%d/%d' % (ours['deployables'], theirs['deployables'])
        else:
            ratio, theirs_median, theirs_first = 'n/a', theirs, ''
            rps = '%d/-' % ours['deployables']
        cells = (
            str(row['gpus']),
            row['scenario'],
            '%.2f ms' % (ours['median_s'] * 1e3),
            theirs_median,
            ratio,
            '%.2f ms' % (ours['first_s'] * 1e3),
            theirs_first,
            '%.1f' % ours['nvml_calls_per_gpu'],
            rps,
        )
        print('  '.join('%-14s' % c for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--sizes', default='1,8,64')
    parser.add_argument('--repeat', type=int, default=15)
    parser.add_argument('--json', help='write the results here')
    parser.add_argument(
        '--worker', action='store_true', help=argparse.SUPPRESS
    )
    parser.add_argument('--lspci-dir', help=argparse.SUPPRESS)
    parser.add_argument('--cyborg-conf', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        intree_worker(args)
        return
    # Keep the drivers' own warnings (MIG in pool mode...) out of the table.
    import logging

    logging.disable(logging.WARNING)
    rows = measure([int(s) for s in args.sizes.split(',')], args.repeat)
    print_table(rows)
    if args.json:
        with open(args.json, 'w') as stream:
            json.dump(
                {'command': ' '.join(sys.argv), 'rows': rows},
                stream,
                indent=1,
                sort_keys=True,
            )
            stream.write('\n')


if __name__ == '__main__':
    main()
