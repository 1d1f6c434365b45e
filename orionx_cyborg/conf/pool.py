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

"""Options of the ``[orionx_pool]`` group: pooled vGPUs on this host."""

from oslo_config import cfg
from oslo_config import types

from orionx_cyborg.conf import groups
from orionx_cyborg.i18n import _

GROUP = cfg.OptGroup(
    'orionx_pool',
    title=_('OrionX GPU pool options'),
    help=_(
        'The GPU pool this host takes part in: the GPUs it lends to the '
        'pool (GPUs in pool mode) and how many pooled vGPUs the virtual '
        'machines of this host may hold.'
    ),
)

POOL_NAME_REGEX = r'^[A-Za-z0-9_]{1,64}$'

opts = [
    cfg.Opt(
        'name',
        type=types.String(regex=POOL_NAME_REGEX),
        default='default',
        help=_(
            'Name of the pool: 1 to 64 letters, digits or underscores. It '
            'becomes the trait CUSTOM_ORIONX_POOL_<NAME> (upper case) on '
            'pool members and on the entitlement of this host, which '
            'device profiles require.'
        ),
    ),
    cfg.IntOpt(
        'entitlement',
        default=0,
        min=0,
        max=1024,
        help=_(
            'How many pooled vGPUs the virtual machines of this host may '
            'hold at once (resource class CUSTOM_ORIONX_VGPU). A host '
            'without GPUs can have an entitlement: its VMs use GPUs of '
            'other hosts over the network. 0 reports no entitlement. '
            'Lowering it below the number in use fails the report of this '
            'host until enough VMs are deleted.'
        ),
    ),
    cfg.IntOpt(
        'memory_reserved_mib',
        default=1024,
        min=0,
        max=65536,
        help=_(
            'GPU memory in MiB kept back from the pool on every pool '
            'member, for the CUDA context of the pooling runtime. Pool '
            'memory of a GPU = its memory - this value.'
        ),
    ),
    cfg.FloatOpt(
        'compute_oversubscription',
        default=1.0,
        min=1.0,
        max=16.0,
        help=_(
            'Compute oversubscription of pool members: a GPU offers '
            '100 x this value compute percent. 1.0 never promises more '
            'than the GPU has.'
        ),
    ),
    cfg.ListOpt(
        'vendors',
        item_type=types.String(regex=r'^[0-9a-f]{4}$'),
        default=['10de'],
        help=_(
            'PCI vendor ids (four lower-case hex digits) whose GPUs in pool '
            'mode become pool members: 10de NVIDIA, 1002 AMD, 19e5 Huawei '
            'Ascend, 1ed5 Moore Threads. A GPU of another vendor in pool '
            'mode is not offered, with a warning: list a vendor only when '
            "the pool's runtime serves it (the OrionX runtime of the "
            'attach service serves NVIDIA).'
        ),
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    groups.register_group(conf, GROUP, opts)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: opts}
