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

"""The attach service's API and lease logic over stand-ins of Cyborg and
Placement (their real behaviour is in the functional tests)."""

import datetime
import json
import uuid

import fixtures
from werkzeug import test as werkzeug_test

from orionx_cyborg import clients
from orionx_cyborg import resources
from orionx_cyborg import sizing
from orionx_cyborg.attach import api
from orionx_cyborg.attach import binding
from orionx_cyborg.attach import context
from orionx_cyborg.attach import health
from orionx_cyborg.attach import leasetokens
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach import metrics
from orionx_cyborg.attach import pipeline
from orionx_cyborg.attach import reconciler as reconciler_mod
from orionx_cyborg.attach import service as service_mod
from orionx_cyborg.attach.ledger import engine as ledger_engine
from orionx_cyborg.attach.runtimes import base as runtimes
from tests import base

PROJECT = 'a' * 32
OTHER = 'b' * 32
ENTITLEMENT_RP = str(uuid.uuid4())


def deployable(name, rc, total, traits, rp=None):
    return clients.Deployable(
        uuid=str(uuid.uuid4()),
        name=name,
        rp_uuid=rp or str(uuid.uuid4()),
        num_accelerators=total,
        driver_name=resources.DRIVER_NAME,
        resource_class=rc,
        traits=frozenset(traits),
    )


class FakeCyborg:
    """Answers like Cyborg's API for a one-GPU pool and one entitlement."""

    def __init__(self):
        pool = {'OWNER_CYBORG', 'CUSTOM_ORIONX_POOL_DEFAULT'}
        self.gpu = clients.Device(
            uuid=str(uuid.uuid4()),
            hostname='gpu1',
            vendor='10de',
            model='NVIDIA H200',
            std_board_info={
                'uuid': 'GPU-1',
                'pci_address': '0000:18:00.0',
                'deployable_prefix': 'gpu1_0000_18_00_0',
            },
        )
        self.deployables_ = [
            deployable(
                'gpu1_0000_18_00_0_GMEM', resources.RC_POOL_MEMORY, 40000, pool
            ),
            deployable(
                'gpu1_0000_18_00_0_COMPUTE',
                resources.RC_POOL_COMPUTE,
                100,
                pool,
            ),
            deployable(
                'cpu1_ORIONX_VGPU_default',
                resources.RC_ENTITLEMENT,
                4,
                pool,
                rp=ENTITLEMENT_RP,
            ),
        ]
        self.arqs_ = []
        self.queries = []  # instance filter of each full ARQ listing
        self.placement = None  # a FakePlacement to claim instances in
        self.profile = clients.DeviceProfile(
            'pool16',
            (
                {
                    'resources:CUSTOM_ORIONX_VGPU': '1',
                    'accel:orionx_gmem_mib': '16384',
                    'accel:orionx_compute_pct': '25',
                },
            ),
        )
        self.down = False

    def _check(self):
        if self.down:
            raise clients.ServiceUnavailable(
                service='Cyborg', reason='connection refused'
            )

    def devices(self):
        self._check()
        return [self.gpu]

    def deployables(self):
        self._check()
        return list(self.deployables_)

    def arqs(self, instance=None):
        self._check()
        self.queries.append(instance)
        return [
            a
            for a in self.arqs_
            if instance is None or a.instance_uuid == instance
        ]

    def arq(self, uuid_):
        self._check()
        return next((a for a in self.arqs_ if a.uuid == uuid_), None)

    def device_profile(self, name):
        self._check()
        return self.profile if name == self.profile.name else None

    def bind(self, instance, project=PROJECT, host='cpu1'):
        arq = clients.Arq(
            uuid=str(uuid.uuid4()),
            state='Bound',
            device_profile_name='pool16',
            device_profile_group_id=0,
            hostname=host,
            device_rp_uuid=ENTITLEMENT_RP,
            instance_uuid=instance,
            project_id=project,
            attach_handle_type=resources.AH_REMOTE,
            attach_handle_uuid=str(uuid.uuid4()),
            attach_handle_info={'pool': 'default', 'slot': '0'},
        )
        self.arqs_.append(arq)
        if self.placement is not None:
            # Nova's claim for the instance, before Cyborg binds.
            # one unit per entitlement ARQ.
            units = sum(1 for a in self.arqs_ if a.instance_uuid == instance)
            self.placement.instances[instance] = {
                ENTITLEMENT_RP: {resources.RC_ENTITLEMENT: units}
            }
        return arq


class FakePlacement:
    """Keeps allocations; capacity is the allocator's business here."""

    def __init__(self):
        self.consumers = {}  # the service's: lease -> allocations
        self.instances = {}  # Nova's: instance -> allocations
        self.traits = {}
        self.inventories = {}

    def allocations(self, consumer):
        held = self.consumers.get(consumer, self.instances.get(consumer))
        return clients.ConsumerAllocations(
            generation=None if held is None else 1,
            allocations=held or {},
            consumer_type=clients.CONSUMER_TYPE,
        )

    def claim(
        self, consumer, allocations, project_id, user_id, consumer_generation
    ):
        self.consumers[consumer] = {
            rp: dict(r) for rp, r in allocations.items()
        }

    def release(self, consumer):
        return self.consumers.pop(consumer, None) is not None

    def provider_allocations(self, rp):
        return {c: a[rp] for c, a in self.consumers.items() if rp in a}

    def provider_root_name(self, rp):
        # The entitlement hangs under host cpu1's compute node.
        return 'cpu1' if rp == ENTITLEMENT_RP else None

    def provider_traits(self, rp):
        return 1, self.traits.get(rp, set())

    def set_provider_traits(self, rp, generation, traits):
        self.traits[rp] = set(traits)

    def provider_inventory(self, rp):
        return 1, self.inventories.get(rp, {})

    def set_provider_inventory(self, rp, generation, inventories):
        self.inventories[rp] = {
            rc: dict(inv) for rc, inv in inventories.items()
        }


class ApiTestCase(base.TestCase):
    def setUp(self):
        super().setUp()
        self.cyborg = FakeCyborg()
        self.placement = FakePlacement()
        self.cyborg.placement = self.placement
        engine = ledger_engine.create_engine(
            'sqlite:///%s/ledger.sqlite' % self.tmp
        )
        self.ledger = ledger_mod.Ledger(engine, owns_engine=True)
        self.ledger.upgrade()
        self.addCleanup(self.ledger.close)
        runtime = runtimes.load(self.conf, 'orionx')
        settings = service_mod.ServiceSettings(
            pools=('default',),
            policy='binpack',
            locality=service_mod.allocator.Locality.STRICT,
            default_size=sizing.Size(8192, 25),
            remote_transport=binding.Transport.RDMA,
            server_port=9960,
            server_addresses={'gpu1': '192.0.2.10'},
            retry_after=15,
            placement_retries=2,
        )
        self.service = service_mod.LeaseService(
            settings,
            self.cyborg,
            self.placement,
            self.ledger,
            leasetokens.TokenIssuer('k', 3600),
            runtime,
            sleep=lambda s: None,
        )
        self.reconciler = reconciler_mod.LeaseReconciler(self.service)
        self.health = health.Health(
            self.ledger,
            health.DependencyTracker(),
            reconcile_interval=0,
            missed_passes=3,
            stall_s=20,
        )
        self.client = werkzeug_test.Client(self.application())
        self.logs = self.useFixture(fixtures.FakeLogger(level='DEBUG'))

    def lease_service(self, settings=None, runtime=None, **kwargs):
        """Another service over this test's stand-ins and ledger.

        :param settings: this test's service's settings by default.
        :param runtime: its runtimes by default.
        """
        return service_mod.LeaseService(
            settings or self.service.settings,
            self.cyborg,
            self.placement,
            self.ledger,
            leasetokens.TokenIssuer('k', 3600),
            runtime or self.service.runtimes,
            sleep=lambda s: None,
            **kwargs,
        )

    def application(self):
        """The API in the production middleware pipeline (no-auth)."""
        return pipeline.build(
            self.conf,
            api.create_app(self.service, self.reconciler, health=self.health),
            context.NoAuthMiddleware,
            self.health,
        )

    def call(self, method, path, token='nova', headers=None, **kwargs):
        headers = dict(headers or {})
        if token:
            headers['X-Auth-Token'] = token
        response = self.client.open(
            path, method=method, headers=headers, **kwargs
        )
        text = response.get_data(as_text=True)
        try:
            return response.status_code, json.loads(text), response
        except ValueError:
            return response.status_code, text, response

    def vendordata(self, body, token='nova'):
        return self.call('POST', '/v1/vendordata', token=token, json=body)


class TestVendordata(ApiTestCase):
    def test_active_document(self):
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance)
        status, doc, _ = self.vendordata(
            {'instance-id': instance, 'project-id': PROJECT, 'hostname': 'vm1'}
        )
        self.assertEqual(200, status)
        self.assertEqual('active', doc['status'])
        (vgpu,) = doc['vgpus']
        self.assertEqual('GPU-1', vgpu['gpu_uuid'])
        self.assertEqual(
            {'address': '192.0.2.10', 'port': 9960, 'transport': 'rdma'},
            vgpu['endpoint'],
        )
        self.assertEqual((16384, 25), (vgpu['gmem_mib'], vgpu['compute_pct']))
        self.assertTrue(vgpu['secret'] and vgpu['expires_at'])
        self.assertEqual('16384', doc['client']['environment']['ORION_GMEM'])
        self.assertEqual(1, len(self.placement.consumers))
        # The secret reaches the guest, never the logs.
        self.assertNotIn(vgpu['secret'], self.logs.output)

    def test_local_gpu_uses_shared_memory(self):
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance, host='gpu1')
        _, doc, _ = self.vendordata({'instance-id': instance})
        self.assertEqual('shm', doc['vgpus'][0]['endpoint']['transport'])

    def test_pool_full_is_a_pending_document(self):
        for _ in range(4):
            instance = str(uuid.uuid4())
            self.cyborg.bind(instance)
            self.vendordata({'instance-id': instance})
        status, doc, _ = self.vendordata({'instance-id': instance})
        self.assertEqual(200, status)
        self.assertEqual('pending', doc['status'])
        self.assertEqual(15, doc['retry_after'])
        self.assertEqual({}, doc['client']['environment'])
        self.assertIsNone(doc['vgpus'][0]['secret'])

    def test_the_oldest_pending_lease_gives_the_pending_age(self):
        for _ in range(5):
            instance = str(uuid.uuid4())
            self.cyborg.bind(instance)
            self.vendordata({'instance-id': instance})
        (oldest,) = self.ledger.pending('default', limit=1)
        collector = metrics._PoolCollector(
            self.service,
            now=lambda: oldest.created_at + datetime.timedelta(seconds=90),
        )
        (family,) = [
            f
            for f in collector.collect()
            if f.name == 'orionx_pending_oldest_age_seconds'
        ]
        self.assertEqual(
            [({'pool': 'default'}, 90.0)],
            [(sample.labels, sample.value) for sample in family.samples],
        )

    def test_profile_larger_than_any_gpu_is_rejected_with_a_reason(self):
        self.cyborg.profile = clients.DeviceProfile(
            'pool16', ({'accel:orionx_gmem_mib': '90000'},)
        )
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance)
        _, doc, _ = self.vendordata({'instance-id': instance})
        self.assertEqual('rejected', doc['vgpus'][0]['state'])
        self.assertIn(
            'exceeds the largest pool GPU', doc['vgpus'][0]['reason']
        )
        self.assertEqual({}, self.placement.consumers)

    def test_a_lost_allocation_is_served_from_the_ledger_and_restored(self):
        """The ledger holds the slice (see delivery's docstring): an
        allocation deleted behind the service's back neither frees the
        slice for another lease nor sends vendordata to Cyborg; the next
        pass writes it again.
        """
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance)
        lease_id = self.vendordata({'instance-id': instance})[1]['vgpus'][0][
            'lease_id'
        ]
        lost = self.placement.consumers.pop(lease_id)
        status, doc, _ = self.vendordata({'instance-id': instance})
        self.assertEqual((200, 'active'), (status, doc['status']))
        self.assertEqual(lease_id, doc['vgpus'][0]['lease_id'])
        self.assertEqual([instance], self.cyborg.queries)
        self.assertEqual(
            'active', self.service.ledger.get(lease_id).state.value
        )
        self.reconciler.run_pass()
        self.assertEqual(lost, self.placement.consumers[lease_id])

    def test_known_leases_are_served_without_listing_every_arq(self):
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance)
        first = self.vendordata({'instance-id': instance})[1]
        self.assertEqual([instance], self.cyborg.queries)
        second = self.vendordata({'instance-id': instance})[1]
        self.assertEqual([instance], self.cyborg.queries)
        self.assertEqual(
            first['vgpus'][0]['lease_id'], second['vgpus'][0]['lease_id']
        )
        self.assertEqual('active', second['status'])

    def test_evacuated_instance_gets_its_new_lease_at_once(self):
        instance = str(uuid.uuid4())
        old = self.cyborg.bind(instance, host='gpu1')
        before = self.vendordata({'instance-id': instance})[1]
        self.assertEqual('shm', before['vgpus'][0]['endpoint']['transport'])
        # Nova's conductor deletes the ARQ and binds a new one on the
        # target host; no reconcile pass has run yet.
        self.cyborg.arqs_.remove(old)
        self.cyborg.bind(instance, host='cpu1')
        after = self.vendordata({'instance-id': instance})[1]
        (vgpu,) = after['vgpus']
        self.assertNotEqual(before['vgpus'][0]['lease_id'], vgpu['lease_id'])
        self.assertEqual('rdma', vgpu['endpoint']['transport'])
        self.assertEqual([instance, instance], self.cyborg.queries)

    def test_a_missing_lease_of_a_two_vgpu_profile_is_created(self):
        self.cyborg.profile = clients.DeviceProfile(
            'pool16',
            (
                {
                    'resources:CUSTOM_ORIONX_VGPU': '2',
                    'accel:orionx_gmem_mib': '4096',
                },
            ),
        )
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance)
        self.assertEqual(
            1, len(self.vendordata({'instance-id': instance})[1]['vgpus'])
        )
        # The second ARQ's lease is missing (say, a crash before it was
        # written): one lease of two asked is not trusted.
        self.cyborg.bind(instance)
        doc = self.vendordata({'instance-id': instance})[1]
        self.assertEqual(2, len(doc['vgpus']))
        self.assertEqual(2, len(self.ledger.list(instance=instance)))
        self.vendordata({'instance-id': instance})
        self.assertEqual([instance, instance], self.cyborg.queries)

    def test_known_lease_of_another_project_is_not_found(self):
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance, project=OTHER)
        self.vendordata({'instance-id': instance, 'project-id': OTHER})
        status, doc, _ = self.vendordata(
            {'instance-id': instance, 'project-id': PROJECT}
        )
        self.assertEqual(404, status)
        self.assertNotIn('vgpus', json.dumps(doc))

    def test_instance_without_pooled_vgpus(self):
        status, doc, _ = self.vendordata({'instance-id': str(uuid.uuid4())})
        self.assertEqual((200, 'none'), (status, doc['status']))
        # Placement said so: Cyborg's slow instance query was not sent.
        self.assertEqual([], self.cyborg.queries)

    def test_instance_with_other_resources_only_skips_cyborg(self):
        instance = str(uuid.uuid4())
        self.placement.instances[instance] = {
            'cn-rp': {'VCPU': 2, 'MEMORY_MB': 2048}
        }
        status, doc, _ = self.vendordata({'instance-id': instance})
        self.assertEqual((200, 'none'), (status, doc['status']))
        self.assertEqual([], self.cyborg.queries)

    def test_shelved_instance_with_a_stale_lease_gets_none(self):
        instance = str(uuid.uuid4())
        arq = self.cyborg.bind(instance)
        self.assertEqual(
            'active', self.vendordata({'instance-id': instance})[1]['status']
        )
        # Shelve-offload: Nova deletes the ARQ and the allocation; the
        # lease stays until the next pass.
        self.cyborg.arqs_.remove(arq)
        del self.placement.instances[instance]
        status, doc, _ = self.vendordata({'instance-id': instance})
        self.assertEqual((200, 'none'), (status, doc['status']))
        self.assertEqual([instance], self.cyborg.queries)

    def test_another_projects_instance_is_not_found(self):
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance, project=OTHER)
        status, doc, _ = self.vendordata(
            {'instance-id': instance, 'project-id': PROJECT}
        )
        self.assertEqual(404, status)
        self.assertNotIn('vgpus', json.dumps(doc))
        self.assertEqual({}, self.placement.consumers)

    def test_bad_bodies(self):
        for body, message in (
            ('not json', 'JSON object'),
            ([1, 2], 'JSON object'),
            ({}, 'instance-id is required'),
            ({'instance-id': 'vm-1'}, 'must be a UUID'),
            (
                {'instance-id': str(uuid.uuid4()), 'project-id': 7},
                'project-id must be a string',
            ),
        ):
            kwargs = (
                {'data': body, 'content_type': 'application/json'}
                if isinstance(body, str)
                else {'json': body}
            )
            status, doc, _ = self.call('POST', '/v1/vendordata', **kwargs)
            self.assertEqual(400, status, body)
            self.assertIn(message, doc['error']['message'])
        self.assertEqual(0, len(self.ledger.list()))

    def test_who_may_ask(self):
        body = {'instance-id': str(uuid.uuid4())}
        self.assertEqual(401, self.vendordata(body, token=None)[0])
        self.assertEqual(403, self.vendordata(body, token='demo')[0])
        self.assertEqual(200, self.vendordata(body, token='admin')[0])

    def test_cyborg_down_is_503_and_nothing_is_lost(self):
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance)
        self.cyborg.down = True
        status, doc, response = self.vendordata({'instance-id': instance})
        self.assertEqual(503, status)
        self.assertIn('Cyborg is unavailable', doc['error']['message'])
        self.assertEqual('15', response.headers['Retry-After'])
        self.cyborg.down = False
        self.assertEqual(
            'active', self.vendordata({'instance-id': instance})[1]['status']
        )


class TestSeveralWorkers(ApiTestCase):
    """Two processes of the service over one ledger, as gunicorn runs it."""

    def other_worker(self):
        other = self.lease_service()
        app = pipeline.build(
            self.conf,
            api.create_app(
                other,
                reconciler_mod.LeaseReconciler(other),
                health=self.health,
            ),
            context.NoAuthMiddleware,
            self.health,
        )
        return werkzeug_test.Client(app)

    def test_room_freed_by_another_worker_is_used_at_once(self):
        worker = self.other_worker()

        def vendordata(instance):
            response = worker.post(
                '/v1/vendordata',
                headers={'X-Auth-Token': 'nova'},
                json={'instance-id': instance},
            )
            return response.get_json()

        first, second, third = (str(uuid.uuid4()) for _ in range(3))
        gone = self.cyborg.bind(first)
        self.cyborg.bind(second)
        # Two 16 GiB leases fill the 40,000 MiB GPU as this worker sees it.
        self.assertEqual('active', vendordata(first)['status'])
        self.assertEqual('active', vendordata(second)['status'])
        # The first instance is deleted; the other worker's pass releases
        # its lease.
        self.cyborg.arqs_.remove(gone)
        self.reconciler.run_pass()
        self.assertEqual(1, len(self.placement.consumers))
        self.cyborg.bind(third)
        doc = vendordata(third)
        self.assertEqual('active', doc['status'])
        self.assertEqual(2, len(self.placement.consumers))


class TestLeasesAndPools(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.mine = str(uuid.uuid4())
        self.theirs = str(uuid.uuid4())
        self.cyborg.bind(self.mine, project=PROJECT)
        self.cyborg.bind(self.theirs, project=OTHER)
        self.reconciler.run_pass()

    def test_a_project_sees_its_own_leases_only(self):
        _, doc, _ = self.call('GET', '/v1/leases', token='demo:' + PROJECT)
        self.assertEqual(
            [self.mine], [lease['instance_uuid'] for lease in doc['leases']]
        )
        _, doc, _ = self.call(
            'GET', '/v1/leases?project=' + OTHER, token='demo:' + PROJECT
        )
        self.assertEqual([], doc['leases'])
        theirs = self.ledger.list(instance=self.theirs)[0].id
        status, _, _ = self.call(
            'GET', '/v1/leases/' + theirs, token='demo:' + PROJECT
        )
        self.assertEqual(404, status)
        status, doc, _ = self.call(
            'GET', '/v1/leases/' + theirs, token='admin'
        )
        self.assertEqual(200, status)
        self.assertEqual(
            ['claimed', 'placed'], [event['event'] for event in doc['events']]
        )

    def test_filters_and_their_errors(self):
        _, doc, _ = self.call('GET', '/v1/leases?state=active', token='admin')
        self.assertEqual(2, len(doc['leases']))
        for query, message in (
            ('state=lost', 'state must be one of'),
            ('limit=0', 'limit must be between'),
            ('limit=x', 'limit must be an integer'),
            ('marker=nope', ''),
        ):
            status, doc, _ = self.call(
                'GET', '/v1/leases?' + query, token='admin'
            )
            self.assertEqual(400, status, query)
            self.assertIn(message, doc['error']['message'])

    def test_pools(self):
        status, _, _ = self.call('GET', '/v1/pools', token='demo')
        self.assertEqual(403, status)
        _, doc, _ = self.call('GET', '/v1/pools/default', token='admin')
        self.assertEqual(32768, doc['gmem_mib']['used'])
        self.assertEqual(40000, doc['gmem_mib']['capacity'])
        self.assertEqual(1, doc['gpus_total'])
        self.assertEqual(2, doc['gpus'][0]['leases'])
        self.assertEqual(
            404, self.call('GET', '/v1/pools/gold', token='admin')[0]
        )

    def test_metrics_and_health(self):
        status, text, _ = self.call('GET', '/metrics', token=None)
        self.assertEqual(200, status)
        self.assertIn(
            'orionx_pool_used_gmem_mib{pool="default"} 32768.0', text
        )
        self.assertIn('orionx_leases{pool="default",state="active"} 2.0', text)
        self.assertIn('orionx_reconcile_duration_seconds ', text)
        self.assertIn(
            'orionx_pending_oldest_age_seconds{pool="default"} 0.0', text
        )
        self.assertIn('orionx_vendordata_duration_seconds_count 0.0', text)
        self.vendordata({'instance-id': str(uuid.uuid4())})
        text = self.call('GET', '/metrics', token=None)[1]
        self.assertIn('orionx_vendordata_requests_total 1.0', text)
        self.assertIn('orionx_vendordata_duration_seconds_count 1.0', text)
        self.assertIn(
            'orionx_vendordata_duration_seconds_bucket{le="+Inf"} 1.0', text
        )
        status, text, _ = self.call('GET', '/healthz', token=None)
        self.assertEqual((200, 'OK'), (status, text.strip()))

    def test_reconcile_on_demand_releases_deleted_instances(self):
        self.cyborg.arqs_ = [
            a for a in self.cyborg.arqs_ if a.instance_uuid != self.theirs
        ]
        status, doc, _ = self.call('POST', '/v1/reconcile', token='admin')
        self.assertEqual((200, 1), (status, doc['released']))
        self.assertEqual(1, len(self.placement.consumers))
        self.assertEqual(
            403, self.call('POST', '/v1/reconcile', token='demo')[0]
        )
