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

"""Pooled vGPUs through Nova: boot, metadata, delete, evacuate.

A server of a pooled flavor gets a vGPU of a GPU server over the network,
wherever it runs: on a host without GPUs too. Nova's conductor and
compute create and bind its ARQ with Cyborg; the attach service leases a
slice of a pool GPU (a Placement allocation whose consumer is the lease)
and hands the binding to the instance through Nova's metadata API.
"""

import hashlib
import hmac
import subprocess

import urllib3
from oslo_serialization import jsonutils as json
from tempest import config
from tempest.common import waiters
from tempest.lib import decorators
from tempest.lib import exceptions as lib_exc
from tempest.lib.common import api_microversion_fixture

from orionx_cyborg_tempest_plugin.tests import base

CONF = config.CONF
#: Evacuate leaves the server ACTIVE up to 2.94 (2.95: SHUTOFF).
EVACUATE_MICROVERSION = '2.94'


class PooledVgpuScenarioTest(base.BaseOrionXTest):
    credentials = [
        'admin',
        'project_member',
        'system_admin',
        'project_reader',
        'project_alt_member',
    ]

    def _bound_arq(self, server, host):
        [arq] = self.accelerator.list_arqs_of(server['id'])
        self.assertEqual('Bound', arq['state'])
        self.assertEqual(host, arq['hostname'])
        return arq

    def _require_gpu_less_host(self):
        if not CONF.orionx.gpu_less_host:
            raise self.skipException(
                '[orionx] gpu_less_host is not set: this cloud names no '
                'compute host without GPUs'
            )
        return CONF.orionx.gpu_less_host

    @decorators.idempotent_id('e1c0724d-22f9-4c5d-9a43-c4d2ec3bb9d2')
    @decorators.attr(type='smoke')
    def test_gpu_less_host_gets_a_remote_vgpu(self):
        host = self._require_gpu_less_host()
        server = self.boot(host=host)
        self.assertEqual(host, self.host_of(server))
        arq = self._bound_arq(server, host)
        lease = self.active_lease(server)
        self.assertEqual(arq['uuid'], lease['arq_uuid'])
        self.assertEqual(host, lease['vm_host'])
        # The GPU is on a GPU server, reached over the network.
        self.assertTrue(lease['gpu_host'])
        self.assertNotEqual(host, lease['gpu_host'])
        self.assertIsNotNone(lease['endpoint'])
        self.assertTrue(lease['endpoint']['address'])
        # The slice is claimed in Placement, the lease its consumer.
        usage = self.allocations_of(lease['id'])
        self.assertTrue(usage, 'the lease %s holds no allocation' % lease)
        claimed = {}
        for allocation in usage.values():
            for rc, amount in allocation['resources'].items():
                claimed[rc] = claimed.get(rc, 0) + amount
        self.assertTrue(claimed, usage)

    @decorators.idempotent_id('b8f04f9b-4063-42bc-8095-f3d08b09f36b')
    def test_metadata_api_shows_the_binding(self):
        url = CONF.orionx.metadata_url
        secret = CONF.orionx.metadata_proxy_shared_secret
        if not (url and secret):
            raise self.skipException(
                '[orionx] metadata_url and metadata_proxy_shared_secret '
                "are needed to ask Nova's metadata API as Neutron's "
                'metadata proxy does'
            )
        server = self.boot(self.member_servers)
        lease = self.active_lease(server)
        document = self._vendor_data2(url, secret, server)
        self.assertIn(CONF.orionx.vendordata_target, document)
        binding = document[CONF.orionx.vendordata_target]
        self.assertEqual(server['id'], binding['instance_uuid'])
        self.assertEqual('active', binding['status'])
        [vgpu] = binding['vgpus']
        self.assertEqual(lease['id'], vgpu['lease_id'])
        self.assertEqual(lease['gpu_host'], vgpu['gpu_host'])
        self.assertEqual(CONF.orionx.pool, vgpu['pool'])
        self.assertTrue(vgpu['secret'])
        self.assertIsNotNone(vgpu['endpoint'])

    def _vendor_data2(self, url, secret, server):
        """vendor_data2.json of *server*, asked as Neutron's proxy asks."""
        signature = hmac.new(
            secret.encode(), server['id'].encode(), hashlib.sha256
        ).hexdigest()
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(total=CONF.compute.build_timeout)
        )
        answer = http.request(
            'GET',
            url.rstrip('/') + '/openstack/latest/vendor_data2.json',
            headers={
                'X-Instance-ID': server['id'],
                'X-Tenant-ID': server['tenant_id'],
                'X-Instance-ID-Signature': signature,
                'X-Forwarded-For': '10.0.0.5',
            },
        )
        self.assertEqual(200, answer.status, answer.data)
        return json.loads(answer.data)

    @decorators.idempotent_id('721822b7-6194-4c77-84e1-339738ccd99e')
    def test_delete_releases_the_lease_and_its_usage(self):
        server = self.boot(self.member_servers)
        lease = self.active_lease(server)
        self.assertTrue(self.allocations_of(lease['id']))
        self.delete_server(server['id'])

        def released():
            # Cyborg tells nobody that Nova deleted the ARQ: a reconcile
            # pass (periodic, or asked for here) releases the lease.
            self.operator.reconcile()
            return not self.leases_of(
                server['id']
            ) and not self.allocations_of(lease['id'])

        base.wait_until(released, 'the lease of a deleted server to go')
        self.assertEqual({}, self.allocations_of(server['id']))
        self.assertEqual([], self.accelerator.list_arqs_of(server['id']))
        self.assertRaises(
            lib_exc.NotFound, self.operator.show_lease, lease['id']
        )

    # -- evacuate --------------------------------------------------------

    def _host_command(self, option, host):
        template = getattr(CONF.orionx, option)
        command = template.format(host=host)
        # An operator's command from tempest.conf, run as configured.
        done = subprocess.run(  # noqa: S602
            command,
            shell=True,
            capture_output=True,
            text=True,
            timeout=CONF.orionx.command_timeout,
            check=False,
        )
        self.assertEqual(
            0,
            done.returncode,
            '[orionx] %s %r failed: %s%s'
            % (option, command, done.stdout, done.stderr),
        )

    def _compute_service(self, host):
        services = self.admin_services.list_services(
            binary='nova-compute', host=host
        )['services']
        self.assertEqual(1, len(services), services)
        return services[0]

    def _force_down(self, host, down):
        service = self._compute_service(host)
        try:
            self.admin_services.update_service(service['id'], forced_down=down)
        except lib_exc.BadRequest:
            return False
        return True

    def _roots_of(self, consumer):
        rps = self.os_admin.resource_providers_client
        with api_microversion_fixture.APIMicroversionFixture(
            placement_microversion='1.14'
        ):
            return {
                rps.show_resource_provider(rp)['root_provider_uuid']
                for rp in self.allocations_of(consumer)
            }

    @decorators.idempotent_id('947db084-1d61-4f95-a993-48ac3f0ad04a')
    def test_evacuate_moves_the_vgpu_with_the_server(self):
        if not CONF.orionx.evacuate:
            raise self.skipException('[orionx] evacuate is False')
        source = self._require_gpu_less_host()
        if not (
            CONF.orionx.compute_stop_command
            and CONF.orionx.compute_start_command
        ):
            raise self.skipException(
                '[orionx] compute_stop_command and compute_start_command '
                'are not set: evacuate needs the source nova-compute '
                'stopped, and Nova lets a forced-down compute up again only '
                'after it restarted and cleaned up the evacuated server'
            )
        server = self.boot(host=source)
        first_arq = self._bound_arq(server, source)
        first = self.active_lease(server)

        self._host_command('compute_stop_command', source)
        self.addCleanup(self._bring_back, source)
        self.assertTrue(self._force_down(source, True))
        with api_microversion_fixture.APIMicroversionFixture(
            compute_microversion=EVACUATE_MICROVERSION
        ):
            self.admin_servers.evacuate_server(server['id'])
        waiters.wait_for_server_status(
            self.admin_servers, server['id'], 'ACTIVE'
        )
        moved = self.admin_servers.show_server(server['id'])['server']
        target = self.host_of(moved)
        self.assertNotEqual(source, target)
        second_arq = self._bound_arq(moved, target)
        self.assertNotEqual(first_arq['uuid'], second_arq['uuid'])

        def followed():
            # The pass releases the old ARQ's lease; the new ARQ gets one.
            self.operator.reconcile()
            self.binding(moved)
            leases = self.leases_of(server['id'])
            if len(leases) == 1 and leases[0]['state'] == base.ACTIVE:
                return leases[0]
            return None

        lease = base.wait_until(followed, 'the lease to follow evacuate')
        self.assertNotEqual(first['id'], lease['id'])
        self.assertEqual(second_arq['uuid'], lease['arq_uuid'])
        self.assertEqual(target, lease['vm_host'])
        self.assertEqual({}, self.allocations_of(first['id']))
        self.assertTrue(self.allocations_of(lease['id']))
        [vgpu] = self.binding(moved)['vgpus']
        self.assertEqual(lease['id'], vgpu['lease_id'])

        self._bring_back(source)
        # The source compute, back, drops the evacuated server's usage.
        base.wait_until(
            lambda: len(self._roots_of(server['id'])) == 1,
            "the source host's allocation of %s to go" % server['id'],
        )

    def _bring_back(self, host):
        """Start *host*'s compute again and let it up (idempotent)."""
        service = self._compute_service(host)
        if service['state'] == 'up' and not service['forced_down']:
            return
        if service['state'] != 'up':
            try:
                self._host_command('compute_start_command', host)
            except self.failureException:
                # Already running: the start command may refuse.
                pass
        # Nova refuses (400) until the restarted compute has completed
        # the evacuation's migration record.
        base.wait_until(
            lambda: self._force_down(host, False),
            'Nova to let %s up again' % host,
        )
        base.wait_until(
            lambda: self._compute_service(host)['state'] == 'up',
            'the compute service of %s to be up' % host,
        )
