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

"""The ``orionx`` runtime: settings for VirtAI OrionX clients.

An OrionX client (the CUDA runtime stand-in inside the guest) reads
``ORION_CONTROLLER`` (``ip:port``), ``ORION_VGPU`` (how many vGPUs),
``ORION_GMEM`` (MiB per vGPU) and ``ORION_RATIO`` (compute percent per
vGPU), or ``/etc/orion/client.conf`` (``[controller] controller_addr``;
``[client] enable_net = true`` selects TCP over shared memory or RDMA).
One process gets every vGPU of the request with the same size, so an
instance whose vGPUs differ in size gets the smallest one, said in the
settings' comment.
"""

from __future__ import annotations

import shlex
import textwrap

from oslo_config import cfg

from orionx_cyborg.attach import binding
from orionx_cyborg.attach.runtimes import base
from orionx_cyborg.i18n import _

CLIENT_CONF = '/etc/orion/client.conf'
PROFILE_SCRIPT = '/etc/profile.d/orionx-vgpu.sh'


class OrionXRuntime(base.Runtime):
    """Renders OrionX client settings."""

    #: The OrionX client this plugin configures is a CUDA client: the
    #: pool GPUs it can use are NVIDIA's.
    VENDORS = frozenset({'10de'})
    CONFIG_OPTS = [
        base.vendors_opt(VENDORS),
        cfg.StrOpt(
            'controller',
            help=_(
                'Address (host:port) of the OrionX controller that guests '
                'register with, written to ORION_CONTROLLER and '
                'client.conf. When unset, the endpoint of the instance\'s '
                'first vGPU is used (a controller co-located with the '
                'GPU servers).'
            ),
        ),
        cfg.BoolOpt(
            'cloud_init',
            default=True,
            help=_(
                'Also render a cloud-config snippet that writes '
                'client.conf and a profile script exporting ORION_* '
                'variables, for images that run cloud-init on '
                'vendordata.'
            ),
        ),
    ]

    def render(self, instance: binding.InstanceBinding) -> base.ClientSettings:
        vgpus = instance.active_vgpus
        if not vgpus:
            return base.ClientSettings(environment={}, files={})
        controller = self.options.controller or str(vgpus[0].endpoint)
        remote_tcp = any(
            v.endpoint is not None
            and v.endpoint.transport is binding.Transport.TCP
            for v in vgpus
        )
        controller = _one_line(controller)
        environment = {
            'ORION_CONTROLLER': controller,
            'ORION_VGPU': str(len(vgpus)),
            'ORION_GMEM': str(min(v.gmem_mib for v in vgpus)),
            'ORION_RATIO': str(min(v.compute_pct for v in vgpus)),
        }
        files = {
            CLIENT_CONF: _client_conf(controller, remote_tcp, vgpus),
            PROFILE_SCRIPT: _profile_script(environment),
        }
        cloud_init = _cloud_config(files) if self.options.cloud_init else None
        return base.ClientSettings(environment, files, cloud_init)


def _profile_script(environment: dict[str, str]) -> str:
    """``export`` lines that every login shell of the guest runs.

    Every value is quoted: an address or host name with ``$(...)`` or
    a backtick in it must not run in the guest.
    """
    return ''.join(
        'export %s=%s\n' % (name, shlex.quote(value))
        for name, value in sorted(environment.items())
    )


def _one_line(value: str) -> str:
    """*value* without control characters.

    A newline would add lines to client.conf and the profile script.
    """
    return ''.join(c for c in value if c.isprintable())


def _client_conf(
    controller: str, remote_tcp: bool, vgpus: tuple[binding.VgpuBinding, ...]
) -> str:
    sizes = sorted({(v.gmem_mib, v.compute_pct) for v in vgpus})
    note = ''
    if len(sizes) > 1:
        note = (
            '# vGPU sizes differ (%s); OrionX gives every vGPU of a process '
            'one size: the smallest.\n'
            % ', '.join('%d MiB/%d%%' % size for size in sizes)
        )
    return (
        '# Written by orionx-cyborg for leases %s\n%s'
        '[controller]\ncontroller_addr = %s\n\n'
        '[client]\nenable_net = %s\n'
        % (
            ', '.join(v.lease_id for v in vgpus),
            note,
            controller,
            'true' if remote_tcp else 'false',
        )
    )


def _cloud_config(files: dict[str, str]) -> str:
    entries = []
    for path, content in sorted(files.items()):
        permissions = '0644'
        entries.append(
            '  - path: %s\n    permissions: "%s"\n    content: |\n%s'
            % (path, permissions, textwrap.indent(content, ' ' * 6))
        )
    return '#cloud-config\nwrite_files:\n' + ''.join(entries)
