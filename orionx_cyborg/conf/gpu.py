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

"""Options of the ``[orionx_gpu]`` group: which GPUs are reported, how."""

from oslo_config import cfg
from oslo_config import types

from orionx_cyborg.conf import groups
from orionx_cyborg.i18n import _

GROUP = cfg.OptGroup(
    'orionx_gpu',
    title=_('OrionX GPU driver options'),
    help=_(
        'How the orionx_gpu_driver Cyborg driver discovers the GPUs of '
        'this host and reports each of them: as a whole GPU, as NVIDIA '
        'vGPU types, as a member of the GPU pool, or not at all.'
    ),
)

_SELECTOR_HELP = _(
    ' Each item is a selector: a PCI address (0000:18:00.0), a GPU UUID '
    '(GPU-8c6b4a3e-...), or a glob matched case-insensitively against the '
    'model name NVML reports (``*H200*``, ``"NVIDIA A100-SXM4-80GB"``). A '
    'GPU matched by selectors of two different lists is a configuration '
    'error and keeps its previous report until the conflict is fixed.'
)

opts = [
    cfg.StrOpt(
        'default_mode',
        default='passthrough',
        choices=[
            (
                'passthrough',
                _(
                    'Report the whole GPU (resource class PGPU) '
                    'with a PCI attach handle.'
                ),
            ),
            (
                'vgpu',
                _(
                    'Report one resource provider per enabled NVIDIA '
                    'vGPU type (resource class VGPU).'
                ),
            ),
            (
                'pool',
                _(
                    'Report the GPU as a pool member: GPU memory in '
                    'MiB and compute in percent, for pooled vGPUs.'
                ),
            ),
            ('off', _('Do not report the GPU.')),
        ],
        help=_('Mode of every GPU that no ``*_devices`` selector names.'),
    ),
    cfg.ListOpt(
        'passthrough_devices',
        default=[],
        help=_('GPUs reported whole (mode passthrough).') + _SELECTOR_HELP,
    ),
    cfg.ListOpt(
        'vgpu_devices',
        default=[],
        help=_(
            'GPUs reported as NVIDIA vGPU types (mode vgpu); their '
            'types come from enabled_vgpu_types.'
        )
        + _SELECTOR_HELP,
    ),
    cfg.ListOpt(
        'pool_devices',
        default=[],
        help=_(
            'GPUs reported as members of the pool named by '
            '[orionx_pool] name (mode pool).'
        )
        + _SELECTOR_HELP,
    ),
    cfg.ListOpt(
        'disabled_devices',
        default=[],
        help=_('GPUs that are not reported at all (mode off).')
        + _SELECTOR_HELP,
    ),
    cfg.ListOpt(
        'enabled_vgpu_types',
        default=[],
        help=_(
            'NVIDIA vGPU types offered by GPUs in vgpu mode. Each item is '
            'a type name as NVML and nvidia-smi show it ("NVIDIA '
            'H200X-35C"; the "NVIDIA " prefix is optional), a vGPU type id '
            '(1071) or an mdev type name (nvidia-1071). A GPU reports the '
            'enabled types it supports; on SR-IOV vGPU hosts (Ada, Hopper) '
            'only types that some virtual function is configured with. '
            'Required when any GPU is in vgpu mode.'
        ),
    ),
    cfg.StrOpt(
        'nvml_library',
        help=_(
            'Path of the NVML shared library to load. By default the '
            "system's libnvidia-ml.so.1 is found by the dynamic loader, as "
            'pynvml does. Any library that implements the NVML C ABI works.'
        ),
    ),
    cfg.ListOpt(
        'vendor_libraries',
        item_type=types.String(choices=('nvml', 'amdsmi', 'dcmi', 'mtml')),
        default=['nvml', 'amdsmi', 'dcmi', 'mtml'],
        help=_(
            'Vendor management libraries to discover accelerators with: '
            'nvml (NVIDIA, libnvidia-ml.so.1 through nvidia-ml-py), amdsmi '
            '(AMD Instinct, libamd_smi.so through the amdsmi package), '
            'dcmi (Huawei Ascend NPUs, libdcmi.so of the Ascend driver), '
            'mtml (Moore Threads, libmtml.so through mthreads-ml-py). A '
            'library that is not installed is skipped (logged at info '
            'level); discovery fails only when none of them works. Remove '
            'a vendor to never load its library on this host.'
        ),
    ),
    cfg.StrOpt(
        'fake_topology',
        help=_(
            'Simulate the GPUs of this host with the built-in fake NVML '
            'library instead of libnvidia-ml.so.1: the name of a built-in '
            'simulated host (see "orionx-cyborg catalogue") or the path of '
            'a YAML topology file, read again at every discovery. For test '
            'and gate environments without GPUs only; never set it on a '
            'production host. When set, nvml_library is ignored.'
        ),
    ),
    cfg.StrOpt(
        'sysfs_root',
        default='/sys',
        help=_(
            'Root of the sysfs tree read for NVIDIA vGPU mdev types and '
            'SR-IOV virtual functions. Only tests and simulated hosts '
            'change it.'
        ),
    ),
    cfg.StrOpt(
        'state_dir',
        sample_default='$state_path/orionx_cyborg',
        help=_(
            'Directory of the last good report of this host, used to keep '
            'reporting a GPU that was lost and to freeze the report while '
            'NVML fails. Defaults to orionx_cyborg under Cyborg\'s '
            '[DEFAULT] state_path. Give every agent its own directory.'
        ),
    ),
    cfg.ListOpt(
        'ignored_xids',
        item_type=types.Integer(min=0),
        default=[13, 31, 43, 45, 68, 109],
        help=_(
            'Xid errors that do not make a GPU unhealthy: application '
            'errors such as illegal memory access or a user-requested '
            'reset. Any other critical Xid event marks the GPU unhealthy '
            'until "orionx-cyborg gpu reset-health" clears it.'
        ),
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    groups.register_group(conf, GROUP, opts)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: opts}
