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

"""Reconcile passes over stand-ins: every interrupted step is finished."""

import uuid

from orionx_cyborg import clients
from orionx_cyborg import resources
from orionx_cyborg.attach import ledger as ledger_mod
from tests.unit.attach import test_api

State = ledger_mod.LeaseState


class TestReconciler(test_api.ApiTestCase):
    def setUp(self):
        super().setUp()
        self.instance = str(uuid.uuid4())
        self.arq = self.cyborg.bind(self.instance)

    def lease(self):
        (lease,) = self.ledger.list(instance=self.instance)
        return lease

    def test_creates_and_places_then_steady_state_changes_nothing(self):
        report = self.reconciler.run_pass()
        self.assertEqual((1, 1), (report.arqs, report.created))
        self.assertEqual(State.ACTIVE, self.lease().state)
        # Cyborg's traits and totals reached Placement (drift healed).
        self.assertEqual(4, report.drift_healed)
        again = self.reconciler.run_pass()
        self.assertEqual(
            (0, 0, 0, 0, 0, 0),
            (
                again.created,
                again.released,
                again.placed,
                again.moved,
                again.repaired,
                again.drift_healed,
            ),
        )

    def test_crash_after_choosing_the_gpu_before_claiming(self):
        self.service.ensure_leases([(self.arq, 'default')])
        lease = self.lease()
        # Undo the claim as if the process died before Placement saw it.
        self.placement.consumers.clear()
        self.ledger.transition(lease.id, lease.version, State.RELEASING)
        fresh = self.ledger.get(lease.id)
        self.ledger.delete(fresh.id, fresh.version)
        gpu = self.service.view().gpus['GPU-1']
        self.ledger.create(
            ledger_mod.NewLease(
                arq_uuid=self.arq.uuid,
                instance_uuid=self.instance,
                project_id=test_api.PROJECT,
                vm_host='cpu1',
                pool='default',
                gmem_mib=16384,
                compute_pct=25,
                state=State.CLAIMING,
                gpu_host='gpu1',
                gpu_uuid='GPU-1',
                gpu_pci_address='0000:18:00.0',
                memory_rp_uuid=gpu.memory_rp_uuid,
                compute_rp_uuid=gpu.compute_rp_uuid,
            )
        )
        report = self.reconciler.run_pass()
        self.assertEqual(1, report.repaired)
        self.assertEqual(State.ACTIVE, self.lease().state)
        self.assertEqual(1, len(self.placement.consumers))

    def test_crash_after_claiming_before_recording(self):
        gpu = self.service.view().gpus['GPU-1']
        lease = self.ledger.create(
            ledger_mod.NewLease(
                arq_uuid=self.arq.uuid,
                instance_uuid=self.instance,
                project_id=test_api.PROJECT,
                vm_host='cpu1',
                pool='default',
                gmem_mib=16384,
                compute_pct=25,
                state=State.CLAIMING,
                gpu_host='gpu1',
                gpu_uuid='GPU-1',
                gpu_pci_address='0000:18:00.0',
                memory_rp_uuid=gpu.memory_rp_uuid,
                compute_rp_uuid=gpu.compute_rp_uuid,
            )
        )
        self.placement.claim(
            lease.id,
            {
                gpu.memory_rp_uuid: {resources.RC_POOL_MEMORY: 16384},
                gpu.compute_rp_uuid: {resources.RC_POOL_COMPUTE: 25},
            },
            test_api.PROJECT,
            'u',
            None,
        )
        self.reconciler.run_pass()
        self.assertEqual(State.ACTIVE, self.lease().state)
        self.assertEqual(
            'repaired', self.ledger.events(lease_id=lease.id)[-1].event
        )

    def test_crash_during_release(self):
        self.reconciler.run_pass()
        lease = self.lease()
        self.ledger.transition(lease.id, lease.version, State.RELEASING)
        self.cyborg.arqs_.clear()
        report = self.reconciler.run_pass()
        self.assertEqual(1, report.released)
        self.assertEqual([], self.ledger.list())
        self.assertEqual({}, self.placement.consumers)

    def test_orphan_allocation_is_released_and_missing_one_restored(self):
        self.reconciler.run_pass()
        lease = self.lease()
        gpu = self.service.view().gpus['GPU-1']
        orphan = str(uuid.uuid4())
        self.placement.consumers[orphan] = {
            gpu.memory_rp_uuid: {resources.RC_POOL_MEMORY: 1024}
        }
        del self.placement.consumers[lease.id]
        report = self.reconciler.run_pass()
        self.assertEqual((1, 1), (report.orphans_released, report.repaired))
        self.assertEqual({lease.id}, set(self.placement.consumers))

    def test_a_lease_placed_during_the_audit_is_no_orphan(self):
        # Nova's vendordata, served by another thread of the service (or
        # another replica), places a lease after this pass read the
        # ledger and before it audits that GPU: its allocation is not in
        # the pass's list of leases, yet it is no orphan.
        self.reconciler.run_pass()
        late = str(uuid.uuid4())
        audit = self.placement.provider_allocations

        def vendordata_meanwhile(rp):
            if not self.ledger.list(instance=late):
                self.cyborg.bind(late)
                self.service.instance_binding(late, None)
            return audit(rp)

        self.placement.provider_allocations = vendordata_meanwhile
        report = self.reconciler.run_pass()
        (lease,) = self.ledger.list(instance=late)
        self.assertEqual(State.ACTIVE, lease.state)
        self.assertEqual(0, report.orphans_released)
        self.assertIn(lease.id, self.placement.consumers)

    def test_lease_moves_off_an_unhealthy_gpu(self):
        self.cyborg.gpu2 = clients.Device(
            uuid=str(uuid.uuid4()),
            hostname='gpu2',
            vendor='10de',
            model='NVIDIA H200',
            std_board_info={
                'uuid': 'GPU-2',
                'pci_address': '0000:2a:00.0',
                'deployable_prefix': 'gpu2_0000_2a_00_0',
            },
        )
        pool = {'OWNER_CYBORG', 'CUSTOM_ORIONX_POOL_DEFAULT'}
        self.cyborg.deployables_ += [
            test_api.deployable(
                'gpu2_0000_2a_00_0_GMEM', resources.RC_POOL_MEMORY, 40000, pool
            ),
            test_api.deployable(
                'gpu2_0000_2a_00_0_COMPUTE',
                resources.RC_POOL_COMPUTE,
                100,
                pool,
            ),
        ]
        devices = self.cyborg.devices
        self.cyborg.devices = lambda: devices() + [self.cyborg.gpu2]
        self.reconciler.run_pass()
        source = self.lease().gpu_uuid
        sick = [
            d
            for d in self.cyborg.deployables_
            if d.name.startswith('gpu%s' % source[-1])
        ]
        for dep in sick:
            self.cyborg.deployables_.remove(dep)
            self.cyborg.deployables_.append(
                clients.Deployable(
                    dep.uuid,
                    dep.name,
                    dep.rp_uuid,
                    dep.num_accelerators,
                    dep.driver_name,
                    dep.resource_class,
                    dep.traits | {resources.TRAIT_UNHEALTHY},
                )
            )
        report = self.reconciler.run_pass()
        self.assertEqual(1, report.moved)
        moved = self.lease()
        self.assertNotEqual(source, moved.gpu_uuid)
        self.assertEqual(
            {'from': source, 'to': moved.gpu_uuid},
            {k: report.moves[0][k] for k in ('from', 'to')},
        )
        self.assertEqual(
            set(self.placement.consumers[moved.id]),
            {moved.memory_rp_uuid, moved.compute_rp_uuid},
        )
        self.assertEqual(
            'moved', self.ledger.events(lease_id=moved.id)[-1].event
        )

    def test_pending_lease_is_placed_when_room_frees(self):
        others = []
        for _ in range(4):
            other = str(uuid.uuid4())
            self.cyborg.bind(other)
            others.append(other)
        self.reconciler.run_pass()
        # 16 GiB slices on a 40000 MiB GPU: two fit, three wait.
        states = [lease.state.value for lease in self.ledger.list()]
        self.assertEqual(2, states.count('active'))
        self.assertEqual(3, states.count('pending'))
        first_pending = self.ledger.pending('default')[0]
        self.cyborg.arqs_ = [
            a
            for a in self.cyborg.arqs_
            if a.instance_uuid not in (self.instance, others[0])
        ]
        report = self.reconciler.run_pass()
        self.assertEqual(2, report.placed)
        self.assertEqual(State.ACTIVE, self.ledger.get(first_pending.id).state)
