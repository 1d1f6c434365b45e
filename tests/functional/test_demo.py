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

"""``orionx-cyborg sandbox demo``: one instance of each kind, summarised."""

from __future__ import annotations

import io
import pathlib
import re

from orionx_cyborg.cmd import cli as orionx_cli
from tests.functional import helpers

# Instance -> (host, attach handle type, what libvirt would attach).
EXPECTED = {
    'demo-gpu-h200': (
        'gpu-server-1',
        'PCI',
        r"<hostdev type='pci' managed='yes'> "
        r'0000:[0-9a-f]{2}:00\.0$',
    ),
    'demo-vgpu-h200x-35c': (
        'gpu-server-1',
        'PCI',
        r"<hostdev type='pci' managed='yes'> "
        r'0000:(3a|5d):00\.[4-7]$',
    ),
    'demo-vgpu-a100d-20c': (
        'gpu-server-2',
        'MDEV',
        r"<hostdev type='mdev'> [0-9a-f-]{36} "
        r'\(nvidia-\d+ on 0000:(3a|5d):0\d\.\d, created by cyborg\)$',
    ),
    'demo-pool-16g-25pct': (
        'cpu-host-1',
        'TEST_PCI',
        r'nothing: TEST_PCI ignored by Nova; .*'
        r'orionx_gmem_mib=16384, orionx_compute_pct=25',
    ),
}


def test_demo_boots_one_instance_of_each_kind_and_stops(
    tmp_path: pathlib.Path,
) -> None:
    state_dir = tmp_path / 'demo'
    out = io.StringIO()
    code = orionx_cli.main(
        ['sandbox', 'demo', '--state-dir', str(state_dir)], out
    )
    text = out.getvalue()
    assert code == 0, text
    lines = text.splitlines()
    assert lines[0].startswith('OrionX sandbox demo: 3 hosts, ready in')
    for name, (host, handle, libvirt) in EXPECTED.items():
        [index] = [
            i
            for i, line in enumerate(lines)
            if line.strip().startswith(name + ' ')
        ]
        assert lines[index].endswith(
            ': ACTIVE on %s, attach handle %s' % (host, handle)
        ), lines[index]
        assert re.search(libvirt, lines[index + 1]), lines[index + 1]
    # Placement shows the four claims, one per kind.
    assert re.search(r'gpu-server-1\s+PGPU\s+\d+\s+\d+\s+1$', text, re.M)
    assert re.search(r'gpu-server-2\s+VGPU\s+\d+\s+\d+\s+1$', text, re.M)
    assert re.search(
        r'cpu-host-1\s+CUSTOM_ORIONX_VGPU\s+1\s+4\s+1$', text, re.M
    )
    # The pooled instance's binding, from the attach service through
    # Nova's vendordata: a GPU of a GPU server, over TCP, and the OrionX
    # client settings.
    [binding] = [
        line.strip()
        for line in lines
        if line.strip().startswith('pooled vGPU: lease ')
    ]
    match = re.fullmatch(
        r'pooled vGPU: lease [0-9a-f-]{36} active: 16384 MiB, 25% of '
        r'GPU-[0-9a-f-]{36} \((0000:[0-9a-f]{2}:00\.0)\) on '
        r'(gpu-server-[12]), tcp to (gpu-server-[12]):9960',
        binding,
    )
    assert match, binding
    assert match.group(2) == match.group(3)
    gpu_host = match.group(2)
    assert (
        '    client: ORION_CONTROLLER=%s:9960 ORION_GMEM=16384 '
        'ORION_RATIO=25 ORION_VGPU=1' % gpu_host
    ) in lines
    assert re.search(
        r'demo-pool-16g-25pct: orionx: active, 1 pooled vGPU', text
    )
    assert re.search(r'demo-gpu-h200: orionx: none$', text, re.M)
    # Its lease is in Placement, on that GPU server's pool providers.
    assert re.search(
        r'%s\s+CUSTOM_ORIONX_GMEM_MIB\s+3\s+\d+\s+16384$' % gpu_host,
        text,
        re.M,
    )
    # Every GPU of the fleet, with its mode.
    assert len(re.findall(r'^    0000:\S+ +NVIDIA ', text, re.M)) == 16
    assert 'FPGA: miss model info' in text
    # Without --keep, nothing is left running.
    assert not helpers.processes_mentioning(str(state_dir))


def test_demo_mixed_boots_on_non_nvidia_devices(
    tmp_path: pathlib.Path,
) -> None:
    """``--mixed``: a whole MI300X, and a pooled vGPU on an AMD GPU."""
    state_dir = tmp_path / 'demo-mixed'
    out = io.StringIO()
    code = orionx_cli.main(
        ['sandbox', 'demo', '--mixed', '--state-dir', str(state_dir)], out
    )
    text = out.getvalue()
    assert code == 0, text
    lines = text.splitlines()
    assert lines[0].startswith('OrionX sandbox demo: 4 hosts, ready in')
    [index] = [
        i
        for i, line in enumerate(lines)
        if line.strip().startswith('demo-gpu-mi300x ')
    ]
    assert lines[index].endswith(
        ': ACTIVE on gpu-server-3, attach handle PCI'
    ), lines[index]
    assert lines[index + 1].endswith("managed='yes'> 0000:11:00.0")
    [binding] = [
        line.strip()
        for line in lines
        if line.strip().startswith('pooled vGPU: lease ')
        and 'gpu-server-3' in line
    ]
    assert re.fullmatch(
        r'pooled vGPU: lease [0-9a-f-]{36} active: 16384 MiB, 25% of '
        r'\S+ \(0000:31:00\.0\) on gpu-server-3, tcp to '
        r'gpu-server-3:9960',
        binding,
    ), binding
    assert (
        '    client: ORIONX_VGPU_COUNT=1 '
        'ORIONX_VGPU_ENDPOINTS=gpu-server-3:9960 '
        'ORIONX_VGPU_FILE=/etc/orionx/vgpus.json'
    ) in lines
    assert re.search(
        r'demo-pool-amd-16g-25pct: orionx: active, 1 pooled vGPU\(s\), '
        r'generic runtime settings',
        text,
    )
    assert re.search(r'gpu-server-3\s+CUSTOM_PNPU\s+2\s+2\s+0$', text, re.M)
    # The MI300X, and perhaps the H200 instance (gpu-server-3 has one
    # whole H200 too).
    assert re.search(r'gpu-server-3\s+PGPU\s+3\s+3\s+[12]$', text, re.M)
    assert not helpers.processes_mentioning(str(state_dir))
