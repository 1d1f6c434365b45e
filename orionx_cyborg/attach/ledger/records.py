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

"""The values the ledger takes and returns: frozen, typed, ORM-free."""

from __future__ import annotations

import dataclasses
import datetime
import json
import uuid
from typing import Any
from typing import TypedDict

from orionx_cyborg.attach.ledger.states import PLACED_STATES
from orionx_cyborg.attach.ledger.states import LeaseState


def new_lease_id() -> str:
    """A fresh lease id; it is also the lease's Placement consumer."""
    return str(uuid.uuid4())


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class NewLease:
    """A lease to create; the ledger adds seq, times and version.

    ``state`` is ``pending`` (no GPU yet), ``claiming`` (GPU chosen) or
    ``active`` (adopting an allocation that Placement already holds); the
    GPU fields are required in the last two.
    """

    arq_uuid: str
    instance_uuid: str
    project_id: str
    vm_host: str
    pool: str
    gmem_mib: int
    compute_pct: int
    user_id: str | None = None
    id: str = dataclasses.field(default_factory=new_lease_id)
    state: LeaseState = LeaseState.PENDING
    gpu_host: str | None = None
    gpu_uuid: str | None = None
    gpu_pci_address: str | None = None
    memory_rp_uuid: str | None = None
    compute_rp_uuid: str | None = None
    placed_at: datetime.datetime | None = None
    gpu_constraint: str | None = None
    """What the lease asks of its GPU, as
    :meth:`orionx_cyborg.constraints.GpuConstraint.to_json` writes it."""
    runtime: str | None = None
    """The runtime plugin that serves the lease (placed leases only)."""


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LeaseRecord:
    """A lease as the ledger holds it."""

    id: str
    arq_uuid: str
    instance_uuid: str
    project_id: str
    user_id: str | None
    vm_host: str
    pool: str
    state: LeaseState
    seq: int
    gmem_mib: int
    compute_pct: int
    gpu_host: str | None
    gpu_uuid: str | None
    gpu_pci_address: str | None
    memory_rp_uuid: str | None
    compute_rp_uuid: str | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    placed_at: datetime.datetime | None
    version: int
    gpu_constraint: str | None = None
    runtime: str | None = None

    @property
    def placed(self) -> bool:
        """Whether the slice counts against a GPU (see PLACED_STATES)."""
        return self.state in PLACED_STATES


class LeaseFields(TypedDict, total=False):
    """The fields :meth:`Ledger.transition` may change with the state."""

    vm_host: str
    gmem_mib: int
    compute_pct: int
    gpu_host: str | None
    gpu_uuid: str | None
    gpu_pci_address: str | None
    memory_rp_uuid: str | None
    compute_rp_uuid: str | None
    placed_at: datetime.datetime | None
    runtime: str | None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LeaseEvent:
    """One line of the audit trail; ``detail`` is JSON or a short text."""

    id: int
    lease_id: str
    at: datetime.datetime
    event: str
    detail: str | None

    def detail_data(self) -> Any:
        """``detail`` decoded from JSON, or the text itself if it is not."""
        if self.detail is None:
            return None
        try:
            return json.loads(self.detail)
        except ValueError:
            return self.detail


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class GpuUsage:
    """What the placed leases of a pool take from one GPU."""

    gpu_uuid: str
    gmem_mib: int
    compute_pct: int
    leases: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class HealthReport:
    """The newest word on one part of the service's health.

    ``at``: when it was seen; ``succeeded_at``: when it last went well
    (recorded for the reconcile passes).
    """

    name: str
    ok: bool
    reason: str | None
    at: datetime.datetime
    succeeded_at: datetime.datetime | None = None
