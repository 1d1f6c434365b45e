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

"""Delivery: an instance's binding document, as Nova's vendordata asks.

Nova calls every dynamic vendordata target for every instance it serves
and gives up after ``[api] vendordata_dynamic_read_timeout`` (5 s), so
each request waits only for what it needs:

* an instance without a pooled vGPU: one Placement read (its
  allocations hold no ``CUSTOM_ORIONX_VGPU``);
* an instance whose leases are current: the ledger and that Placement
  read (with Placement down, Cyborg's word on each lease's ARQ instead). The leases are current when Placement holds as many
  entitlement units for the instance as it has leases, none being
  released, all on its leases' host (the root provider of the
  entitlement provider, read once per provider and kept);
  evacuation, resize and shelve-offload change the instance's
  allocations, so any change Nova makes shows up here;
* anything else (a first ask, a change): Cyborg's ARQs of the
  instance, and the lease operations for those without a lease.

**Why a current lease is served without asking Cyborg or reading the
lease's own allocation.** The ledger, not Placement or Cyborg, is what
holds a lease's GPU slice: the allocator places from the ledger's usage
(:meth:`Ledger.usage_by_gpu`), the only consumers of the pool members'
inventories are leases, and every path of ours that frees a slice marks
the lease ``releasing`` in the ledger *before* it deletes the
allocation (and a move marks it ``moving``). So:

* a lease whose allocation is gone while the ledger says ``active`` lost
  it to someone outside the service (an operator's ``allocation
  delete``); its slice is still the lease's in the ledger, nobody else
  can be placed on it, and the next pass writes the allocation again.
  Serving the document gives the guest nothing another tenant holds;
  reading the allocation on every request would double Placement's
  load to detect what the pass repairs anyway.
* a lease whose ARQ is gone while Placement still holds the instance's
  entitlement: Nova deletes an instance's ARQs and its allocations in
  the same operation (delete, shelve-offload), so this lasts until Nova
  finishes, or until the next pass when an operator deleted the ARQ
  through Cyborg's API. The slice stays reserved by the lease until that
  pass releases it, and its release revokes the lease token at once for
  GPU servers that check online (:mod:`.tokencheck` answers from the
  ledger) and, for offline checks, at the latest ``secret_ttl`` plus
  the skew allowance after issue (:mod:`.leasetokens`). Asking
  Cyborg on every request would put Cyborg (60 s timeout, every ARQ of
  the region per list) on the path of every Nova metadata request, which
  is what this module avoids.
* a lease being released (``releasing``) or an instance whose
  entitlement moved host or changed count is never served from the
  ledger alone: ``_current`` sends those to Cyborg.

No lock is held here; the caches have their own.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from orionx_cyborg import clients
from orionx_cyborg import exception
from orionx_cyborg import resources
from orionx_cyborg.attach import binding
from orionx_cyborg.attach import leasetokens
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach.runtimes import base as runtime_base
from orionx_cyborg.i18n import _

if TYPE_CHECKING:
    from orionx_cyborg.attach import service as service_mod

State = ledger_mod.LeaseState
Lease = ledger_mod.LeaseRecord


class InstanceNotFound(exception.OrionXException):
    msg_fmt = _(
        'Instance %(instance)s has no accelerator request in '
        'project %(project)s.'
    )


class Delivery:
    """Binding documents of instances; safe to call from several threads."""

    def __init__(
        self,
        leases: service_mod.LeaseService,
        placement: clients.PlacementClient,
        ledger: ledger_mod.Ledger,
        signer: leasetokens.TokenIssuer,
        runtimes: runtime_base.RuntimeSet,
        clock: ledger_mod.Clock,
    ) -> None:
        self._leases = leases
        self._settings = leases.settings
        self._placement = placement
        self._ledger = ledger
        self._signer = signer
        self._runtimes = runtimes
        self._clock = clock
        self._lock = threading.Lock()
        # Entitlement provider -> its host (a provider never moves).
        self._hosts: dict[str, str | None] = {}

    def document(
        self, instance_uuid: str, project_id: str | None
    ) -> dict[str, Any]:
        """Nova's vendordata answer: the binding and client settings."""
        instance = self.instance_binding(instance_uuid, project_id)
        document = instance.to_dict()
        names = list(
            dict.fromkeys(
                v.runtime for v in instance.active_vgpus if v.runtime
            )
        ) or [self._runtimes.default.name]
        clients_ = {
            name: self._runtimes.get(name)
            .render(instance.served_by(name))
            .to_dict()
            for name in names
        }
        # One runtime serves most instances: its settings are "client".
        # An instance with vGPUs of several runtimes gets each runtime's
        # settings in "clients".
        document['client'] = clients_[names[0]]
        document['runtime'] = names[0]
        document['clients'] = clients_
        return document

    def instance_binding(
        self, instance_uuid: str, project_id: str | None
    ) -> binding.InstanceBinding:
        """The binding document of an instance, creating missing leases.

        :param project_id: the caller's idea of the instance's project;
            an instance of another project is not found.
        :raises InstanceNotFound: the instance's leases or ARQs belong to
            another project.
        :raises ServiceUnavailable: Cyborg or Placement cannot be reached.
        """
        leases = self._ledger.list(instance=instance_uuid)
        try:
            held = self._entitlement_units(instance_uuid)
        except clients.ServiceUnavailable:
            # Placement is down: leases Cyborg confirms are served.
            if not leases or not self._confirmed_by_cyborg(leases):
                raise
            held = None
        if held is not None and not held:
            return self._binding(instance_uuid, project_id, [])
        if held is None or (leases and self._current(leases, held)):
            self._check_project(instance_uuid, project_id, leases)
            return self._binding(instance_uuid, project_id, leases)
        arqs = [
            a
            for a in self._leases.cyborg.arqs(instance=instance_uuid)
            if a.instance_uuid == instance_uuid
        ]
        self._check_project(instance_uuid, project_id, arqs)
        ours = self._leases.entitlement_arqs(arqs)
        outcomes = self._leases.ensure_leases(ours)
        return self._binding(
            instance_uuid,
            project_id,
            [outcomes[arq.uuid] for arq, _ in ours],
            project_of_arqs=ours[0][0].project_id if ours else None,
        )

    def _entitlement_units(self, instance_uuid: str) -> dict[str, int]:
        """Entitlement units Placement holds for the instance, by provider.

        Nova claims an instance's accelerator resources under the
        instance's own consumer (and again on evacuate and unshelve), so
        none here means no entitlement ARQ either.
        """
        held = self._placement.allocations(instance_uuid)
        return {
            rp: int(amounts[resources.RC_ENTITLEMENT])
            for rp, amounts in held.allocations.items()
            if amounts.get(resources.RC_ENTITLEMENT)
        }

    def _current(self, leases: Sequence[Lease], held: dict[str, int]) -> bool:
        if any(lease.state is State.RELEASING for lease in leases):
            return False
        if sum(held.values()) != len(leases):
            return False
        hosts = {lease.vm_host for lease in leases}
        return all({self._host_of(rp)} == hosts for rp in held)

    def _confirmed_by_cyborg(self, leases: Sequence[Lease]) -> bool:
        """Whether Cyborg says each lease's ARQ is still bound to the
        instance on the lease's host, and the device profile asks as
        many pooled vGPUs as there are leases (one ARQ read each).
        """
        if any(lease.state is State.RELEASING for lease in leases):
            return False
        arqs = []
        for lease in leases:
            arq = self._leases.cyborg.arq(lease.arq_uuid)
            if (
                arq is None
                or not arq.bound
                or arq.instance_uuid != lease.instance_uuid
                or arq.hostname != lease.vm_host
            ):
                return False
            arqs.append(arq)
        names = {arq.device_profile_name for arq in arqs}
        profile = (
            self._leases.profile(names.pop()) if len(names) == 1 else None
        )
        return profile is not None and _vgpus_asked(profile) == len(arqs)

    def _host_of(self, rp_uuid: str) -> str | None:
        with self._lock:
            if rp_uuid in self._hosts:
                return self._hosts[rp_uuid]
        host = self._placement.provider_root_name(rp_uuid)
        with self._lock:
            self._hosts[rp_uuid] = host
        return host

    def _check_project(
        self,
        instance_uuid: str,
        project_id: str | None,
        owners: Sequence[Lease | clients.Arq],
    ) -> None:
        if project_id and any(
            o.project_id and o.project_id != project_id for o in owners
        ):
            raise InstanceNotFound(instance=instance_uuid, project=project_id)

    def _binding(
        self,
        instance_uuid: str,
        project_id: str | None,
        outcomes: Sequence[service_mod.Outcome],
        project_of_arqs: str | None = None,
    ) -> binding.InstanceBinding:
        vgpus = [self._vgpu(outcome) for outcome in outcomes]
        pending = any(not v.active for v in vgpus)
        owner = project_of_arqs
        if owner is None:
            owner = next(
                (o.project_id for o in outcomes if isinstance(o, Lease)), ''
            )
        return binding.InstanceBinding(
            instance_uuid=instance_uuid,
            project_id=project_id or owner or '',
            vgpus=tuple(vgpus),
            retry_after=self._settings.retry_after if pending else None,
        )

    def _vgpu(self, outcome: service_mod.Outcome) -> binding.VgpuBinding:
        if not isinstance(outcome, Lease):
            return binding.VgpuBinding(
                lease_id='',
                pool=outcome.pool,
                state='rejected',
                gmem_mib=0,
                compute_pct=0,
                reason=outcome.reason,
            )
        lease = outcome
        if lease.state is not State.ACTIVE or not lease.gpu_host:
            return binding.VgpuBinding(
                lease_id=lease.id,
                pool=lease.pool,
                state='pending',
                gmem_mib=lease.gmem_mib,
                compute_pct=lease.compute_pct,
                reason=_waiting_for(lease),
            )
        claims = self._signer.claims(
            lease_id=lease.id,
            gpu_uuid=lease.gpu_uuid or '',
            host=lease.gpu_host,
            gmem_mib=lease.gmem_mib,
            compute_pct=lease.compute_pct,
            now=self._clock().timestamp(),
        )
        secret = self._signer.issue(claims)
        expires = datetime.datetime.fromtimestamp(
            claims.expires_at, tz=datetime.UTC
        )
        runtime, vendor = self._runtime_of(lease)
        return binding.VgpuBinding(
            lease_id=lease.id,
            pool=lease.pool,
            state='active',
            gmem_mib=lease.gmem_mib,
            compute_pct=lease.compute_pct,
            gpu_uuid=lease.gpu_uuid,
            gpu_host=lease.gpu_host,
            endpoint=self.endpoint(lease),
            secret=secret,
            expires_at=expires.isoformat(),
            runtime=runtime,
            vendor=vendor,
        )

    def _runtime_of(self, lease: Lease) -> tuple[str, str | None]:
        """The runtime serving an active lease, and its GPU's vendor.

        A lease placed before leases recorded their runtime gets the one
        that serves its GPU's vendor now.
        """
        view = self._leases.capacity.cached_view()
        gpu = view.gpus.get(lease.gpu_uuid or '') if view else None
        vendor = gpu.vendor if gpu is not None else None
        if lease.runtime and lease.runtime in self._runtimes.names:
            return lease.runtime, vendor
        if gpu is None:
            return self._runtimes.default.name, vendor
        constraint = service_mod.lease_constraint(lease)
        try:
            return self._leases.serving_runtime(gpu, constraint), vendor
        except runtime_base.UnknownRuntime:
            return self._runtimes.default.name, vendor

    def endpoint(self, lease: Lease) -> binding.Endpoint:
        host = lease.gpu_host or ''
        transport = (
            binding.Transport.SHM
            if host == lease.vm_host
            else self._settings.remote_transport
        )
        return binding.Endpoint(
            address=self._settings.server_addresses.get(host, host),
            port=self._settings.server_port,
            transport=transport,
        )


def _vgpus_asked(profile: clients.DeviceProfile) -> int:
    """How many pooled vGPUs (entitlement ARQs) a device profile asks."""
    key = 'resources:' + resources.RC_ENTITLEMENT
    total = 0
    for group in profile.groups:
        try:
            total += int(group.get(key, 0))
        except ValueError:
            return -1  # Cyborg would not have made ARQs of it
    return total


def _waiting_for(lease: Lease) -> str:
    if lease.state is State.AWAITING_PARTNER:
        return (
            'waiting for a partner vGPU to share a GPU of pool %s with'
            % lease.pool
        )
    return 'waiting for room in pool %s' % lease.pool
