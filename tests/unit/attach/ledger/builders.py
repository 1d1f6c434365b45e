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

"""Builders of ledger inputs for the tests."""

from __future__ import annotations

import uuid
from typing import Any

from orionx_cyborg.attach.ledger import LeaseRecord
from orionx_cyborg.attach.ledger import LeaseState
from orionx_cyborg.attach.ledger import Ledger
from orionx_cyborg.attach.ledger import NewLease

_NAMESPACE = uuid.UUID('6c0a3bd4-2f4e-4d8e-9a55-1d2c1f0b7e21')


def new_lease(**overrides: Any) -> NewLease:
    values: dict[str, Any] = {
        'arq_uuid': str(uuid.uuid4()),
        'instance_uuid': str(uuid.uuid4()),
        'project_id': 'project-a',
        'user_id': 'user-a',
        'vm_host': 'compute-1',
        'pool': 'default',
        'gmem_mib': 16384,
        'compute_pct': 25,
    }
    values.update(overrides)
    return NewLease(**values)


def gpu(name: str = 'GPU-0', host: str = 'gpu-server-1') -> dict[str, Any]:
    """The placement fields of a lease on GPU *name*."""
    return {
        'gpu_host': host,
        'gpu_uuid': name,
        'gpu_pci_address': '0000:18:00.0',
        'memory_rp_uuid': str(uuid.uuid5(_NAMESPACE, name + '_GMEM')),
        'compute_rp_uuid': str(uuid.uuid5(_NAMESPACE, name + '_COMPUTE')),
    }


def active(
    ledger: Ledger, gpu_name: str = 'GPU-0', **overrides: Any
) -> LeaseRecord:
    """A lease taken through pending and claiming to active."""
    lease = ledger.create(new_lease(**overrides))
    lease = ledger.transition(
        lease.id, lease.version, LeaseState.CLAIMING, **gpu(gpu_name)
    )
    return ledger.transition(lease.id, lease.version, LeaseState.ACTIVE)
