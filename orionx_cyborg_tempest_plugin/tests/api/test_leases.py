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

"""The attach service's API, and who may do what with it.

One server with a pooled vGPU, booted by a member of the test project,
gives the lease the tests look at. Personas (Tempest's dynamic or
preprovisioned credentials): that project's member and reader, a member
of another project, a system-scoped admin (the operator) and Tempest's
admin (an admin of a project, no operator under the new policy
defaults), and no token at all.
"""

from tempest import config
from tempest.lib import decorators
from tempest.lib import exceptions as lib_exc

from orionx_cyborg_tempest_plugin.tests import base

CONF = config.CONF
NO_LEASE = '00000000-0000-4000-8000-000000000000'


class LeasesAuthorizationTest(base.BaseOrionXTest):
    """Leases: a project sees its own; an operator sees every one."""

    @classmethod
    def resource_setup(cls):
        super().resource_setup()
        cls.server = cls.create_server(cls.member_servers)
        cls.lease = cls.active_lease(cls.server)
        cls.project_id = cls.server['tenant_id']

    def _ids(self, answer):
        return {lease['id'] for lease in answer['leases']}

    @decorators.idempotent_id('b5d52adb-6b03-4c29-a616-6242f9ca140d')
    def test_the_lease_belongs_to_the_server_and_its_project(self):
        lease = self.lease
        self.assertEqual(self.server['id'], lease['instance_uuid'])
        self.assertEqual(self.project_id, lease['project_id'])
        self.assertEqual(CONF.orionx.pool, lease['pool'])
        self.assertEqual(CONF.orionx.pooled_gmem_mib, lease['gmem_mib'])
        self.assertEqual(CONF.orionx.pooled_compute_pct, lease['compute_pct'])
        self.assertEqual(base.ACTIVE, lease['state'])
        self.assertTrue(lease['gpu_uuid'])
        self.assertTrue(lease['gpu_host'])
        self.assertIsNotNone(lease['endpoint'])

    @decorators.idempotent_id('a3c2c9c6-b9de-49db-93f8-91a9031b616a')
    def test_member_lists_and_shows_only_its_projects_leases(self):
        answer = self.member.list_leases()
        self.assertIn(self.lease['id'], self._ids(answer))
        self.assertEqual(
            {self.project_id},
            {lease['project_id'] for lease in answer['leases']},
        )
        shown = self.member.show_lease(self.lease['id'])
        self.assertEqual(self.lease['arq_uuid'], shown['arq_uuid'])
        self.assertIn('events', shown)
        # Asking for another project's leases gives none, not an error.
        other = self.os_project_alt_member.credentials.project_id
        self.assertEqual([], self.member.list_leases(project=other)['leases'])

    @decorators.idempotent_id('17bd7227-ce29-4a5b-8bf2-b49f73a996f8')
    def test_reader_sees_its_projects_leases(self):
        answer = self.reader.list_leases(instance=self.server['id'])
        self.assertEqual({self.lease['id']}, self._ids(answer))
        shown = self.reader.show_lease(self.lease['id'])
        self.assertEqual(self.server['id'], shown['instance_uuid'])

    @decorators.idempotent_id('1c5c467e-c4f5-47a2-9450-6b44987bee9a')
    def test_another_projects_member_sees_nothing_of_it(self):
        self.assertNotIn(
            self.lease['id'], self._ids(self.alt_member.list_leases())
        )
        self.assertEqual(
            [],
            self.alt_member.list_leases(project=self.project_id)['leases'],
        )
        self.assertEqual(
            [],
            self.alt_member.list_leases(instance=self.server['id'])['leases'],
        )
        # Another project's lease is as unknown as a missing one.
        self.assertRaises(
            lib_exc.NotFound, self.alt_member.show_lease, self.lease['id']
        )
        self.assertRaises(lib_exc.NotFound, self.member.show_lease, NO_LEASE)

    @decorators.idempotent_id('c1e99d09-0056-4683-a081-97fe6829ac8f')
    def test_operator_sees_every_projects_leases(self):
        answer = self.operator.list_leases(project=self.project_id)
        self.assertIn(self.lease['id'], self._ids(answer))
        shown = self.operator.show_lease(self.lease['id'])
        self.assertEqual(self.project_id, shown['project_id'])
        self.assertTrue(
            any(event['event'] for event in shown['events']),
            'the lease has no event: %s' % shown,
        )
        states = self.operator.list_leases(state=base.ACTIVE)['leases']
        self.assertIn(self.lease['id'], {lease['id'] for lease in states})
        self.assertRaises(
            lib_exc.BadRequest, self.operator.list_leases, state='bogus'
        )
        self.assertRaises(
            lib_exc.BadRequest, self.operator.list_leases, limit='0'
        )

    @decorators.idempotent_id('04db1c37-8cb8-480f-973f-b0d0af9efede')
    def test_project_admin_is_no_operator(self):
        if not CONF.orionx.enforce_new_defaults:
            raise self.skipException(
                '[orionx] enforce_new_defaults is False: an admin of any '
                'project is an operator of the attach service'
            )
        self.assertRaises(lib_exc.Forbidden, self.project_admin.list_pools)
        self.assertRaises(lib_exc.Forbidden, self.project_admin.reconcile)
        self.assertNotIn(
            self.lease['id'], self._ids(self.project_admin.list_leases())
        )
        self.assertRaises(
            lib_exc.NotFound, self.project_admin.show_lease, self.lease['id']
        )

    @decorators.idempotent_id('68574faa-1a09-4942-9e75-4874de25ace2')
    def test_vendordata_names_the_lease_for_its_own_project_only(self):
        document = self.operator.vendordata(self.server['id'], self.project_id)
        self.assertEqual('active', document['status'])
        [vgpu] = document['vgpus']
        self.assertEqual(self.lease['id'], vgpu['lease_id'])
        self.assertEqual(self.lease['gpu_host'], vgpu['gpu_host'])
        self.assertTrue(vgpu['secret'])
        # Nova passes the instance's project: another one finds nothing.
        other = self.os_project_alt_member.credentials.project_id
        self.assertRaises(
            lib_exc.NotFound,
            self.operator.vendordata,
            self.server['id'],
            other,
        )


class WritesAuthorizationTest(base.BaseOrionXTest):
    """Reconcile, vendordata and pools: operators' and services' calls."""

    credentials = [
        'admin',
        'project_member',
        'project_reader',
        'project_alt_member',
        'system_admin',
    ]

    @classmethod
    def resource_setup(cls):
        # No flavor needed: nothing here boots.
        super(base.BaseOrionXTest, cls).resource_setup()

    @decorators.idempotent_id('6433d870-71bf-4593-87d8-5e8a0978be70')
    def test_reader_cannot_write(self):
        self.assertRaises(lib_exc.Forbidden, self.reader.reconcile)
        self.assertRaises(lib_exc.Forbidden, self.reader.vendordata, NO_LEASE)
        self.assertRaises(
            lib_exc.Forbidden, self.reader.verify_lease_token, 'x.y.z'
        )

    @decorators.idempotent_id('63ca0c98-10a1-4588-8bde-3b71b6eca47c')
    def test_member_cannot_act_as_operator_or_nova(self):
        # A tenant never reads lease secrets through the attach service:
        # only Nova's service user (for the metadata API) and operators.
        self.assertRaises(lib_exc.Forbidden, self.member.reconcile)
        self.assertRaises(lib_exc.Forbidden, self.member.vendordata, NO_LEASE)
        self.assertRaises(lib_exc.Forbidden, self.member.list_pools)
        self.assertRaises(
            lib_exc.Forbidden, self.member.show_pool, CONF.orionx.pool
        )

    @decorators.idempotent_id('4269cd98-5bc4-46d0-bab7-32b105b24a15')
    def test_unauthenticated_requests_are_refused(self):
        for method, path, document in (
            ('GET', '/v1/leases', None),
            ('GET', '/v1/leases/%s' % NO_LEASE, None),
            ('GET', '/v1/pools', None),
            ('GET', '/v1/health', None),
            ('POST', '/v1/reconcile', {}),
            ('POST', '/v1/vendordata', {'instance-id': NO_LEASE}),
            ('POST', '/v1/lease-tokens/verify', {'token': 'x.y.z'}),
        ):
            status, answer = self.operator.unauthenticated(
                method, path, document
            )
            self.assertEqual(401, status, '%s %s: %s' % (method, path, answer))

    @decorators.idempotent_id('59c50c15-a589-47b3-b2d4-50b57ea23cc8')
    def test_operator_sees_the_pools(self):
        pools = {pool['name'] for pool in self.operator.list_pools()['pools']}
        self.assertIn(CONF.orionx.pool, pools)
        pool = self.operator.show_pool(CONF.orionx.pool)
        self.assertEqual(CONF.orionx.pool, pool['name'])
        self.assertIn('gpus', pool)
        self.assertRaises(
            lib_exc.NotFound, self.operator.show_pool, 'no-such-pool'
        )

    @decorators.idempotent_id('5c39f26f-b8fe-4951-8d3a-71c57a1b7c75')
    def test_operator_runs_a_reconcile_pass(self):
        report = self.operator.reconcile()
        for key in ('released', 'placed', 'moved'):
            self.assertIn(key, report)

    @decorators.idempotent_id('cecc7285-433e-4fb7-a029-d1ebee79879e')
    def test_vendordata_of_an_instance_without_pooled_vgpus(self):
        # Nova asks for every instance; one without a pooled vGPU has an
        # empty document.
        document = self.operator.vendordata(NO_LEASE)
        self.assertEqual('none', document['status'])
        self.assertEqual([], document['vgpus'])
