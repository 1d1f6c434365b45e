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

"""The binding document: what a VM learns about its pooled vGPUs.

The attach service builds one per instance from its leases; a runtime
plugin (:mod:`orionx_cyborg.attach.runtimes`) renders the client settings
of a remoting runtime from it; Nova's DynamicJSON vendordata delivers both
to the guest.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any


class Transport(enum.Enum):
    """How the VM reaches the GPU server."""

    #: The GPU is on the VM's own host: shared memory through the host.
    SHM = 'shm'
    RDMA = 'rdma'
    TCP = 'tcp'


@dataclasses.dataclass(frozen=True)
class Endpoint:
    """Where the GPU server of a lease listens."""

    address: str
    port: int
    transport: Transport

    def __str__(self) -> str:
        if ':' in self.address:
            return '[%s]:%d' % (self.address, self.port)
        return '%s:%d' % (self.address, self.port)


@dataclasses.dataclass(frozen=True)
class VgpuBinding:
    """One pooled vGPU of an instance."""

    lease_id: str
    pool: str
    state: str
    """``active`` (usable) or ``pending`` (waiting for room)."""
    gmem_mib: int
    compute_pct: int
    gpu_uuid: str | None = None
    gpu_host: str | None = None
    endpoint: Endpoint | None = None
    secret: str | None = None
    expires_at: str | None = None
    """When the secret expires (ISO 8601, UTC); refresh before."""
    reason: str | None = None
    """Why the vGPU is not active (pending, or rejected for good)."""
    runtime: str | None = None
    """The runtime plugin that serves the vGPU (renders its client)."""
    vendor: str | None = None
    """The PCI vendor id of the serving GPU."""

    @property
    def active(self) -> bool:
        return self.state == 'active' and self.endpoint is not None


@dataclasses.dataclass(frozen=True)
class InstanceBinding:
    """All pooled vGPUs of one instance."""

    instance_uuid: str
    project_id: str
    vgpus: tuple[VgpuBinding, ...]
    retry_after: int | None = None
    """Seconds after which a guest should ask again (pending vGPUs)."""

    @property
    def active_vgpus(self) -> tuple[VgpuBinding, ...]:
        return tuple(v for v in self.vgpus if v.active)

    def served_by(self, runtime: str) -> InstanceBinding:
        """This binding with only the vGPUs runtime *runtime* serves."""
        return dataclasses.replace(
            self,
            vgpus=tuple(v for v in self.vgpus if v.runtime == runtime),
        )

    @property
    def pending(self) -> bool:
        return any(not v.active for v in self.vgpus)

    def to_dict(self) -> dict[str, Any]:
        """The binding document as JSON-ready data."""
        return {
            'instance_uuid': self.instance_uuid,
            'project_id': self.project_id,
            'status': _status(self),
            'retry_after': self.retry_after,
            'vgpus': [
                {
                    'lease_id': v.lease_id,
                    'pool': v.pool,
                    'state': v.state,
                    'gmem_mib': v.gmem_mib,
                    'compute_pct': v.compute_pct,
                    'gpu_uuid': v.gpu_uuid,
                    'gpu_host': v.gpu_host,
                    'endpoint': None
                    if v.endpoint is None
                    else {
                        'address': v.endpoint.address,
                        'port': v.endpoint.port,
                        'transport': v.endpoint.transport.value,
                    },
                    'secret': v.secret,
                    'expires_at': v.expires_at,
                    'reason': v.reason,
                    'runtime': v.runtime,
                    'vendor': v.vendor,
                }
                for v in self.vgpus
            ],
        }


def _status(binding: InstanceBinding) -> str:
    if not binding.vgpus:
        return 'none'
    if not binding.active_vgpus:
        return 'pending'
    return 'partial' if binding.pending else 'active'
