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

"""The ``generic`` runtime: a vendor-neutral description of the leases.

OrionX's client is a CUDA client; a pooled vGPU on an AMD, Ascend or
Moore Threads GPU needs that vendor's remoting client (an API-remoting
layer over ROCm/HIP, CANN or MUSA), which orionx-cyborg does not ship.
This runtime gives such a client what the lease says and nothing more:
a JSON file listing every active vGPU (lease id, GPU server endpoint and
transport, memory and compute) and environment variables naming it::

    ORIONX_VGPU_COUNT=1
    ORIONX_VGPU_ENDPOINTS=192.0.2.10:9960
    ORIONX_VGPU_FILE=/etc/orionx/vgpus.json

Lease secrets stay in the binding document (the guest fetches it from
the metadata service); they are not written to files here.
"""

from __future__ import annotations

import json
import shlex

from oslo_config import cfg

from orionx_cyborg.attach import binding
from orionx_cyborg.attach.runtimes import base
from orionx_cyborg.i18n import _

VGPU_FILE = '/etc/orionx/vgpus.json'
PROFILE_SCRIPT = '/etc/profile.d/orionx-vgpus.sh'


class GenericRuntime(base.Runtime):
    """Renders a vendor-neutral list of the instance's active vGPUs."""

    #: AMD Instinct, Huawei Ascend and Moore Threads.
    VENDORS = frozenset({'1002', '19e5', '1ed5'})
    CONFIG_OPTS = [
        base.vendors_opt(VENDORS),
        cfg.BoolOpt(
            'cloud_init',
            default=True,
            help=_(
                'Also render a cloud-config snippet that writes the vGPU '
                'list and a profile script exporting ORIONX_VGPU_* '
                'variables.'
            ),
        ),
    ]

    def render(self, instance: binding.InstanceBinding) -> base.ClientSettings:
        vgpus = instance.active_vgpus
        if not vgpus:
            return base.ClientSettings(environment={}, files={})
        environment = {
            'ORIONX_VGPU_COUNT': str(len(vgpus)),
            'ORIONX_VGPU_ENDPOINTS': ','.join(
                _one_line(str(v.endpoint)) for v in vgpus
            ),
            'ORIONX_VGPU_FILE': VGPU_FILE,
        }
        listing = {
            'instance_uuid': instance.instance_uuid,
            'vgpus': [
                {
                    'lease_id': v.lease_id,
                    'pool': v.pool,
                    'gpu_uuid': v.gpu_uuid,
                    'vendor': v.vendor,
                    'endpoint': str(v.endpoint),
                    'transport': v.endpoint.transport.value
                    if v.endpoint
                    else None,
                    'gmem_mib': v.gmem_mib,
                    'compute_pct': v.compute_pct,
                }
                for v in vgpus
            ],
        }
        files = {
            VGPU_FILE: json.dumps(listing, indent=2, sort_keys=True) + '\n',
            PROFILE_SCRIPT: ''.join(
                'export %s=%s\n' % (name, shlex.quote(value))
                for name, value in sorted(environment.items())
            ),
        }
        cloud_init = None
        if self.options.cloud_init:
            cloud_init = '#cloud-config\n' + json.dumps(
                {
                    'write_files': [
                        {
                            'path': path,
                            'permissions': '0644',
                            'content': content,
                        }
                        for path, content in sorted(files.items())
                    ]
                },
                sort_keys=True,
            )
        return base.ClientSettings(environment, files, cloud_init)


def _one_line(value: str) -> str:
    return ''.join(c for c in value if c.isprintable())
