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

"""Reconcile passes that must not release on stale evidence, nor stop at
one failing lease, pool or GPU."""

import uuid

from orionx_cyborg import clients
from orionx_cyborg import resources
from orionx_cyborg.attach import ledger as ledger_mod
from tests.unit.attach import test_api

State = ledger_mod.LeaseState


class TestNoReleaseOnOlderEvidence(test_api.ApiTestCase):
    def test_a_lease_made_after_the_arq_listing_is_kept(self):
        listing = self.cyborg.arqs
        made = []

        def arqs_then_a_vendordata_call(instance=None):
            seen = listing(instance)
            if instance is None and not made:
                # Between this pass's ARQ listing and its ledger read,
                # Nova binds an ARQ and a vendordata call leases it.
                arq = self.cyborg.bind(str(uuid.uuid4()))
                self.service.ensure_leases([(arq, 'default')])
                made.append(arq)
            return seen

        self.cyborg.arqs = arqs_then_a_vendordata_call
        report = self.reconciler.run_pass()
        (lease,) = self.ledger.list()
        self.assertEqual(made[0].uuid, lease.arq_uuid)
        self.assertEqual(State.ACTIVE, lease.state)
        self.assertEqual((0, 1), (report.released, report.kept_newer))
        # The next pass sees the ARQ and keeps the same lease (and so the
        # guest's secret).
        self.reconciler.run_pass()
        self.assertEqual([lease.id], [x.id for x in self.ledger.list()])

    def test_a_lease_whose_arq_is_really_gone_is_released(self):
        arq = self.cyborg.bind(str(uuid.uuid4()))
        self.reconciler.run_pass()
        self.cyborg.arqs_.remove(arq)
        report = self.reconciler.run_pass()
        self.assertEqual((1, 0), (report.released, report.kept_newer))
        self.assertEqual([], self.ledger.list())


class PoisonedPlacement(test_api.FakePlacement):
    """Fails every call about one consumer or one provider."""

    def __init__(self):
        super().__init__()
        self.poisoned = set()

    def _check(self, key):
        if key in self.poisoned:
            raise clients.RequestFailed(
                service='Placement',
                status=409,
                method='GET',
                path=key,
                reason='poisoned',
            )

    def allocations(self, consumer):
        self._check(consumer)
        return super().allocations(consumer)

    def release(self, consumer):
        self._check(consumer)
        return super().release(consumer)

    def provider_allocations(self, rp):
        self._check(rp)
        return super().provider_allocations(rp)


class TestOneFailureDoesNotStopThePass(test_api.ApiTestCase):
    def setUp(self):
        super().setUp()
        placement = PoisonedPlacement()
        self.placement = self.service.placement = placement
        self.cyborg.placement = placement

    def add_gpu(self):
        """A second pool GPU (gpu2), so a pass has two GPUs to audit."""
        pool = {'OWNER_CYBORG', 'CUSTOM_ORIONX_POOL_DEFAULT'}
        self.cyborg.gpu2 = clients.Device(
            uuid=str(uuid.uuid4()),
            hostname='gpu2',
            vendor='10de',
            model='NVIDIA H200',
            std_board_info={
                'uuid': 'GPU-2',
                'pci_address': '0000:19:00.0',
                'deployable_prefix': 'gpu2_0000_19_00_0',
            },
        )
        devices = self.cyborg.devices
        self.cyborg.devices = lambda: devices() + [self.cyborg.gpu2]
        self.cyborg.deployables_ += [
            test_api.deployable(
                'gpu2_0000_19_00_0_GMEM', resources.RC_POOL_MEMORY, 40000, pool
            ),
            test_api.deployable(
                'gpu2_0000_19_00_0_COMPUTE',
                resources.RC_POOL_COMPUTE,
                100,
                pool,
            ),
        ]

    def test_a_poisoned_lease_is_counted_and_the_others_proceed(self):
        doomed = self.cyborg.bind(str(uuid.uuid4()))
        self.reconciler.run_pass()
        (poisoned,) = self.ledger.list()
        # Its ARQ is deleted, and every Placement call about it fails.
        self.cyborg.arqs_.remove(doomed)
        self.placement.poisoned.add(poisoned.id)
        fresh = self.cyborg.bind(str(uuid.uuid4()))
        report = self.reconciler.run_pass()
        self.assertEqual(1, report.failures)
        self.assertIn('lease %s' % poisoned.id, report.errors[0])
        self.assertEqual(1, self.reconciler.failures_total)
        # The pass went on: the new ARQ got its lease, the audit ran.
        (made,) = self.ledger.list(instance=fresh.instance_uuid)
        self.assertEqual(State.ACTIVE, made.state)
        self.assertIs(report, self.reconciler.last_report)
        # Once Placement answers again, the next pass finishes it.
        self.placement.poisoned.clear()
        report = self.reconciler.run_pass()
        self.assertEqual((0, 1), (report.failures, report.released))
        self.assertEqual([made.id], [x.id for x in self.ledger.list()])
        self.assertEqual(1, self.reconciler.failures_total)

    def test_a_failing_gpu_does_not_stop_the_audit_of_the_others(self):
        self.add_gpu()
        self.reconciler.run_pass()
        view = self.service.view(refresh=True)
        first, second = sorted(view.gpus.values(), key=lambda g: g.gpu_uuid)
        self.placement.poisoned.add(first.memory_rp_uuid)
        # An orphan allocation on the healthy GPU: the audit releases it.
        orphan = str(uuid.uuid4())
        self.placement.consumers[orphan] = {
            second.memory_rp_uuid: {resources.RC_POOL_MEMORY: 1024}
        }
        report = self.reconciler.run_pass()
        self.assertEqual(1, report.failures)
        self.assertIn('auditing GPU %s' % first.gpu_uuid, report.errors[0])
        self.assertEqual(1, report.orphans_released)
        self.assertNotIn(orphan, self.placement.consumers)

    def test_a_dependency_down_still_ends_the_pass(self):
        self.cyborg.bind(str(uuid.uuid4()))
        self.cyborg.down = True
        self.assertRaises(clients.ServiceUnavailable, self.reconciler.run_pass)
        self.assertEqual(0, self.reconciler.failures_total)
