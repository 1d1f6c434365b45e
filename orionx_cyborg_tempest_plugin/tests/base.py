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

"""What the plugin's tests share: clients, the pooled flavor, servers.

The tests are configured by ``tempest.conf`` only (:mod:`..config`):
they run against any cloud with orionx-cyborg's services, the sandbox's
full profile (which writes its ``tempest.conf``) or a devstack with the
plugin.
"""

import time

from oslo_log import log as logging
from tempest import config
from tempest import test
from tempest.common import waiters
from tempest.lib import exceptions as lib_exc
from tempest.lib.common import api_microversion_fixture
from tempest.lib.common.utils import data_utils
from tempest.lib.common.utils import test_utils

from orionx_cyborg_tempest_plugin.services import clients

CONF = config.CONF
LOG = logging.getLogger(__name__)

#: Nova's compute API microversion of the tests: 2.37 boots without a
#: network, 2.53 forces a compute service down by id.
COMPUTE_MICROVERSION = '2.74'
POOL_TRAIT_PREFIX = 'CUSTOM_ORIONX_POOL_'
#: Lease states (the attach service's ledger).
ACTIVE = 'active'


def pool_trait(pool):
    """The trait of *pool*'s GPUs (orionx_gpu_driver's naming)."""
    return POOL_TRAIT_PREFIX + pool.upper().replace('-', '_')


def pooled_group(conf=None):
    """The device profile group of one pooled vGPU of ``[orionx] pool``."""
    orionx = (conf or CONF).orionx
    return {
        'resources:%s' % orionx.entitlement_resource_class: '1',
        'trait:%s' % pool_trait(orionx.pool): 'required',
        'accel:orionx_gmem_mib': str(orionx.pooled_gmem_mib),
        'accel:orionx_compute_pct': str(orionx.pooled_compute_pct),
    }


def build_timeout():
    return CONF.orionx.build_timeout or CONF.compute.build_timeout


def wait_until(predicate, what, timeout=None, interval=1.0):
    """Call *predicate* until it returns a true value; return that."""
    deadline = time.monotonic() + (timeout or build_timeout())
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise lib_exc.TimeoutException(
                'Timed out after %ss waiting for %s'
                % (timeout or build_timeout(), what)
            )
        time.sleep(interval)


class BaseOrionXTest(test.BaseTestCase):
    """Tests of orionx-cyborg's attach service and pooled vGPUs.

    Credentials: the project's member and reader, a member of another
    project, an operator (system-scoped admin) and Tempest's admin, who
    makes the pooled flavor and forces servers onto hosts.
    """

    credentials = [
        'admin',
        'project_member',
        'project_reader',
        'project_alt_member',
        'system_admin',
    ]

    @classmethod
    def skip_checks(cls):
        super().skip_checks()
        available = CONF.service_available
        if not available.orionx_attach:
            raise cls.skipException(
                '[service_available] orionx_attach is False: this cloud '
                'runs no orionx-cyborg-attach'
            )
        if not available.nova:
            raise cls.skipException('Nova is required')
        if not getattr(available, 'cyborg', True):
            raise cls.skipException('Cyborg is required')

    @classmethod
    def attach_client(cls, manager):
        return clients.AttachClient(
            manager.auth_provider,
            CONF.orionx.catalog_type,
            CONF.orionx.region or CONF.identity.region,
            endpoint_type=CONF.orionx.endpoint_type,
            **manager.default_params,
        )

    @classmethod
    def setup_clients(cls):
        super().setup_clients()
        cls.operator = cls.attach_client(cls.os_system_admin)
        cls.member = cls.attach_client(cls.os_project_member)
        cls.reader = cls.attach_client(cls.os_project_reader)
        cls.alt_member = cls.attach_client(cls.os_project_alt_member)
        cls.project_admin = cls.attach_client(cls.os_admin)
        cls.accelerator = clients.AcceleratorClient(
            cls.os_admin.auth_provider,
            'accelerator',
            CONF.identity.region,
            **cls.os_admin.default_params,
        )
        cls.admin_servers = cls.os_admin.servers_client
        cls.admin_flavors = cls.os_admin.flavors_client
        cls.admin_services = cls.os_admin.services_client
        cls.placement = cls.os_admin.placement_client
        cls.member_servers = cls.os_project_member.servers_client

    @classmethod
    def resource_setup(cls):
        super().resource_setup()
        cls.image_ref = CONF.orionx.image_ref or CONF.compute.image_ref
        cls.flavor_ref = CONF.orionx.pooled_flavor_ref or cls._pooled_flavor()

    @classmethod
    def _pooled_flavor(cls):
        """A public flavor of one pooled vGPU (and its device profile)."""
        name = data_utils.rand_name(
            prefix=CONF.resource_name_prefix, name='orionx-pool'
        )
        cls.accelerator.create_device_profile(
            name,
            [pooled_group()],
            description='orionx-cyborg Tempest: one pooled vGPU',
        )
        cls.addClassResourceCleanup(
            test_utils.call_and_ignore_notfound_exc,
            cls.accelerator.delete_device_profile,
            name,
        )
        base = cls.admin_flavors.show_flavor(CONF.compute.flavor_ref)['flavor']
        flavor = cls.admin_flavors.create_flavor(
            name=name,
            ram=base['ram'],
            vcpus=base['vcpus'],
            disk=base['disk'],
            is_public=True,
        )['flavor']
        # Deleted before the profile (cleanups run last in, first out).
        cls.addClassResourceCleanup(
            test_utils.call_and_ignore_notfound_exc,
            cls.admin_flavors.delete_flavor,
            flavor['id'],
        )
        cls.admin_flavors.set_flavor_extra_spec(
            flavor['id'], **{'accel:device_profile': name}
        )
        return flavor['id']

    def setUp(self):
        super().setUp()
        self.useFixture(
            api_microversion_fixture.APIMicroversionFixture(
                compute_microversion=COMPUTE_MICROVERSION
            )
        )

    # -- servers ---------------------------------------------------------

    @classmethod
    def networks(cls):
        value = CONF.orionx.networks
        return value if value in ('none', 'auto') else [{'uuid': value}]

    @classmethod
    def create_server(cls, servers_client=None, host=None, cleanup=None):
        """Boot a server of the pooled flavor; wait for ACTIVE; its body.

        *host* forces it onto that host (as the admin, ZONE:HOST);
        *cleanup* registers its deletion (the class's by default).
        """
        client = servers_client or cls.admin_servers
        kwargs = {}
        if host:
            client = cls.admin_servers
            kwargs['availability_zone'] = '%s:%s' % (
                CONF.orionx.availability_zone,
                host,
            )
        with api_microversion_fixture.APIMicroversionFixture(
            compute_microversion=COMPUTE_MICROVERSION
        ):
            server = client.create_server(
                name=data_utils.rand_name(
                    prefix=CONF.resource_name_prefix, name='orionx'
                ),
                imageRef=cls.image_ref,
                flavorRef=cls.flavor_ref,
                networks=cls.networks(),
                **kwargs,
            )['server']
            (cleanup or cls.addClassResourceCleanup)(
                cls.delete_server, server['id']
            )
            waiters.wait_for_server_status(client, server['id'], 'ACTIVE')
            return cls.admin_servers.show_server(server['id'])['server']

    def boot(self, servers_client=None, host=None):
        """:meth:`create_server`, deleted after the test."""
        return self.create_server(servers_client, host, self.addCleanup)

    @classmethod
    def delete_server(cls, server_id):
        """Delete (if still there) and wait until Nova forgot it."""
        try:
            cls.admin_servers.delete_server(server_id)
        except lib_exc.NotFound:
            return
        waiters.wait_for_server_termination(cls.admin_servers, server_id)

    @staticmethod
    def host_of(server):
        return server['OS-EXT-SRV-ATTR:host']

    # -- leases ----------------------------------------------------------

    @classmethod
    def binding(cls, server):
        """The attach service's document of *server* (as an operator)."""
        return cls.operator.vendordata(server['id'], server['tenant_id'])

    @classmethod
    def leases_of(cls, server_id):
        return cls.operator.list_leases(instance=server_id)['leases']

    @classmethod
    def active_lease(cls, server):
        """*server*'s one active lease, once it has one (reconciling)."""

        def active():
            # Asking for the document creates the lease and places it
            # where the pool has room; a pass does the same.
            cls.binding(server)
            leases = cls.leases_of(server['id'])
            if len(leases) == 1 and leases[0]['state'] == ACTIVE:
                return leases[0]
            cls.operator.reconcile()
            return None

        return wait_until(active, 'an active lease of %s' % server['id'])

    @classmethod
    def allocations_of(cls, consumer):
        return cls.placement.list_allocations(consumer)['allocations']
