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

"""What the lease service derives from a pool view, once per view."""

import uuid
from unittest import mock

from orionx_cyborg import clients
from orionx_cyborg import constraints
from orionx_cyborg import resources
from orionx_cyborg.clients import pools
from tests.unit.attach import test_api

POOL_TRAITS = {'OWNER_CYBORG', 'CUSTOM_ORIONX_POOL_DEFAULT'}


class TestViewMemo(test_api.ApiTestCase):
    def lease_one(self):
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance)
        status, doc, _ = self.vendordata({'instance-id': instance})
        self.assertEqual(200, status)
        return doc

    def add_gpu(self, vendor, gpu_uuid='GPU-2', address='0000:19:00.0'):
        prefix = 'gpu1_%s' % address.replace(':', '_').replace('.', '_')
        self.cyborg.devices = lambda: [
            self.cyborg.gpu,
            clients.Device(
                uuid=str(uuid.uuid4()),
                hostname='gpu1',
                vendor=vendor,
                model='AMD Instinct MI300X',
                std_board_info={
                    'uuid': gpu_uuid,
                    'pci_address': address,
                    'deployable_prefix': prefix,
                },
            ),
        ]
        self.cyborg.deployables_ += [
            test_api.deployable(
                prefix + '_GMEM', resources.RC_POOL_MEMORY, 40000, POOL_TRAITS
            ),
            test_api.deployable(
                prefix + '_COMPUTE',
                resources.RC_POOL_COMPUTE,
                100,
                POOL_TRAITS,
            ),
        ]

    def eligible(self):
        return sorted(
            m.gpu_uuid
            for m in self.service.eligible('default', constraints.NONE)
        )

    def test_a_lease_does_not_look_at_every_gpu_again(self):
        members = pools.PoolView.members
        with mock.patch.object(
            pools.PoolView, 'members', autospec=True, side_effect=members
        ) as spy:
            self.lease_one()
            after_one = spy.call_count
            # One more fits the 40000 MiB GPU. (One that does not would
            # rebuild the allocator, which looks at every GPU once.)
            self.assertEqual('active', self.lease_one()['status'])
            self.assertGreater(after_one, 0)
            self.assertEqual(after_one, spy.call_count)

    def test_a_fresh_view_is_looked_at_afresh(self):
        self.flags(group='orionx_runtime_orionx', vendors=['10de', '1002'])
        self.assertEqual(['GPU-1'], self.eligible())
        self.add_gpu('1002')
        # The cached view still has one GPU; a fresh one has both.
        self.assertEqual(['GPU-1'], self.eligible())
        self.service.view(refresh=True)
        self.assertEqual(['GPU-1', 'GPU-2'], self.eligible())

    def test_a_changed_vendors_option_is_seen_at_once(self):
        self.add_gpu('1002')
        self.service.view(refresh=True)
        self.assertEqual(['GPU-1'], self.eligible())
        self.flags(group='orionx_runtime_orionx', vendors=['1002'])
        self.assertEqual(['GPU-2'], self.eligible())
        self.flags(group='orionx_runtime_orionx', vendors=['10de', '1002'])
        self.assertEqual(['GPU-1', 'GPU-2'], self.eligible())

    def test_a_runtime_no_longer_configured_is_served_nowhere(self):
        self.assertEqual(
            [],
            self.service.eligible(
                'default', constraints.GpuConstraint(runtime='gone')
            ),
        )
