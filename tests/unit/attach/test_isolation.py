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

"""A slow dependency delays only the requests that need it.

Before the lease service held no lock across I/O, one process-wide lock
was held across every Cyborg, Placement and SQL call: a Cyborg that hung
made every vendordata call, ``/metrics`` and ``/v1/pools`` wait, and a
ledger write lock delayed read-only vendordata. Each test here holds a
dependency (a Cyborg stand-in that blocks until released, a real HTTP
server that never answers, an SQLite write lock) while other requests
must finish within a second.
"""

import http.server
import sqlite3
import threading
import time
import uuid

from werkzeug import test as werkzeug_test

from orionx_cyborg import clients
from orionx_cyborg.clients import adapter
from orionx_cyborg.conf import auth
from tests.unit.attach import test_api

#: What a request that does not need the held dependency may take. The
#: held one is held for far longer (until the test releases it).
FAST_S = 1.0


class BlockingCyborg(test_api.FakeCyborg):
    """Blocks every call while ``hold`` is set, until ``release`` is."""

    def __init__(self):
        super().__init__()
        self.hold = False
        self.entered = threading.Event()
        self.release = threading.Event()

    def _check(self):
        super()._check()
        if self.hold:
            self.entered.set()
            assert self.release.wait(30), 'the test never released Cyborg'


class IsolationTestCase(test_api.ApiTestCase):
    def setUp(self):
        super().setUp()
        blocking = BlockingCyborg()
        blocking.placement = self.placement
        self.cyborg = blocking
        self.service.cyborg = blocking
        capacity = getattr(self.service, 'capacity', None)
        if capacity is not None:
            capacity._cyborg = blocking
        self.addCleanup(blocking.release.set)

    def in_background(self, method, path, **kwargs):
        """Start a request in a thread; return the thread."""
        client = werkzeug_test.Client(self.application())
        thread = threading.Thread(
            target=client.open,
            args=(path,),
            kwargs=dict(
                method=method, headers={'X-Auth-Token': 'nova'}, **kwargs
            ),
            daemon=True,
        )
        thread.start()
        self.addCleanup(thread.join, 30)
        # Cleanups run last-in first-out: let it go before joining it.
        self.addCleanup(self.cyborg.release.set)
        return thread

    def timed(self, method, path, **kwargs):
        started = time.monotonic()
        status, body, _ = self.call(method, path, **kwargs)
        return status, body, time.monotonic() - started

    def known_instance(self):
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance)
        status, doc, _ = self.vendordata({'instance-id': instance})
        self.assertEqual('active', doc['status'])
        return instance, doc

    def hang_cyborg_in_a_first_ask(self):
        """A vendordata request that waits for Cyborg, in a thread."""
        first = str(uuid.uuid4())
        self.cyborg.bind(first)
        self.cyborg.hold = True
        thread = self.in_background(
            'POST', '/v1/vendordata', json={'instance-id': first}
        )
        self.assertTrue(self.cyborg.entered.wait(10))
        return thread


class TestCyborgHangs(IsolationTestCase):
    def test_known_leases_and_vgpu_less_instances_do_not_wait(self):
        known, before = self.known_instance()
        thread = self.hang_cyborg_in_a_first_ask()
        status, doc, took = self.timed(
            'POST', '/v1/vendordata', json={'instance-id': known}
        )
        self.assertEqual(200, status)
        self.assertEqual(
            before['vgpus'][0]['lease_id'], doc['vgpus'][0]['lease_id']
        )
        self.assertLess(took, FAST_S)
        status, doc, took = self.timed(
            'POST', '/v1/vendordata', json={'instance-id': str(uuid.uuid4())}
        )
        self.assertEqual((200, 'none'), (status, doc['status']))
        self.assertLess(took, FAST_S)
        # The first ask still waits for Cyborg, and gets its lease then.
        self.assertTrue(thread.is_alive())
        self.cyborg.release.set()
        thread.join(10)
        self.assertFalse(thread.is_alive())

    def test_metrics_pools_and_health_do_not_wait(self):
        self.known_instance()  # the pool view is read
        self.hang_cyborg_in_a_first_ask()
        for path in ('/metrics', '/v1/pools', '/healthz'):
            status, _, took = self.timed('GET', path, token='admin')
            self.assertEqual(200, status, path)
            self.assertLess(took, FAST_S, path)

    def test_a_pool_view_refresh_does_not_stop_readers(self):
        self.known_instance()
        self.cyborg.hold = True
        refresh = threading.Thread(
            target=self.service.view, kwargs={'refresh': True}, daemon=True
        )
        refresh.start()
        self.addCleanup(refresh.join, 30)
        self.addCleanup(self.cyborg.release.set)
        self.assertTrue(self.cyborg.entered.wait(10))
        status, _, took = self.timed('GET', '/v1/pools', token='admin')
        self.assertEqual(200, status)
        self.assertLess(took, FAST_S)


class TestLedgerWriteLock(IsolationTestCase):
    def test_read_only_vendordata_does_not_wait_for_a_writer(self):
        known, _ = self.known_instance()
        # Another process holds the ledger's write lock (SQLite, WAL).
        holder = sqlite3.connect('%s/ledger.sqlite' % self.tmp)
        self.addCleanup(holder.close)
        holder.execute('BEGIN IMMEDIATE')
        self.addCleanup(holder.rollback)
        writer = str(uuid.uuid4())
        self.cyborg.bind(writer)
        thread = self.in_background(
            'POST', '/v1/vendordata', json={'instance-id': writer}
        )
        self.addCleanup(holder.rollback)
        time.sleep(0.2)  # the writer reaches the ledger and waits
        status, doc, took = self.timed(
            'POST', '/v1/vendordata', json={'instance-id': known}
        )
        self.assertEqual((200, 'active'), (status, doc['status']))
        self.assertLess(took, FAST_S)
        self.assertTrue(thread.is_alive())
        holder.rollback()
        thread.join(30)


class _NeverAnswers(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.server.entered.set()
        self.server.release.wait(30)

    def log_message(self, format, *args):
        pass


class TestTimeouts(test_api.ApiTestCase):
    def test_a_hung_cyborg_times_out_with_the_configured_timeout(self):
        server = http.server.ThreadingHTTPServer(
            ('127.0.0.1', 0), _NeverAnswers
        )
        server.daemon_threads = True
        server.entered = threading.Event()
        server.release = threading.Event()
        self.addCleanup(server.server_close)
        self.addCleanup(server.release.set)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.shutdown)
        auth.register_auth_opts(self.conf, auth.CYBORG)
        self.flags(
            group='cyborg',
            auth_type='none',
            endpoint_override='http://127.0.0.1:%d' % server.server_port,
            timeout=0.5,
        )
        cyborg = clients.CyborgClient(
            adapter.load_adapter(self.conf, 'cyborg')
        )
        started = time.monotonic()
        self.assertRaises(clients.TimedOut, cyborg.devices)
        self.assertTrue(server.entered.is_set())
        self.assertLess(time.monotonic() - started, 5)


class TestPlacementDown(test_api.ApiTestCase):
    def setUp(self):
        super().setUp()
        self.placement_down = False
        allocations = self.placement.allocations

        def maybe_down(consumer):
            if self.placement_down:
                raise clients.ConnectFailed(
                    service='Placement', reason='connection refused'
                )
            return allocations(consumer)

        self.placement.allocations = maybe_down

    def test_a_known_lease_is_served_on_cyborg_s_word(self):
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance)
        first = self.vendordata({'instance-id': instance})[1]
        self.placement_down = True
        status, doc, _ = self.vendordata({'instance-id': instance})
        self.assertEqual((200, 'active'), (status, doc['status']))
        self.assertEqual(
            first['vgpus'][0]['lease_id'], doc['vgpus'][0]['lease_id']
        )
        # Its ARQ gone from Cyborg: no longer trusted without Placement.
        self.cyborg.arqs_ = []
        status, doc, response = self.vendordata({'instance-id': instance})
        self.assertEqual(503, status)
        self.assertEqual('15', response.headers['Retry-After'])

    def test_a_first_ask_needs_placement(self):
        instance = str(uuid.uuid4())
        self.cyborg.bind(instance)
        self.placement_down = True
        status, doc, _ = self.vendordata({'instance-id': instance})
        self.assertEqual(503, status)
        self.assertIn('Placement is unavailable', doc['error']['message'])
        self.assertEqual([], self.ledger.list(instance=instance))
