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

"""The online check of lease tokens: revoked on release, refused once
moved or resized (``POST /v1/lease-tokens/verify``)."""

import uuid

from orionx_cyborg.attach import leasetokens
from orionx_cyborg.attach import ledger as ledger_mod
from tests.unit.attach import test_api


class TestOnlineCheck(test_api.ApiTestCase):
    def setUp(self):
        super().setUp()
        self.instance = str(uuid.uuid4())
        self.arq = self.cyborg.bind(self.instance)
        _, doc, _ = self.vendordata({'instance-id': self.instance})
        (self.vgpu,) = doc['vgpus']
        self.token = self.vgpu['secret']

    def check(self, token=None, who='gpu-server'):
        status, doc, _ = self.call(
            'POST',
            '/v1/lease-tokens/verify',
            token=who,
            json={'token': token or self.token},
        )
        self.assertEqual(200, status, doc)
        return doc

    def test_an_active_leases_token_holds(self):
        doc = self.check()
        self.assertTrue(doc['valid'])
        self.assertEqual(
            {
                'lease': self.vgpu['lease_id'],
                'gpu': 'GPU-1',
                'host': 'gpu1',
                'gmem': 16384,
                'pct': 25,
            },
            {
                k: doc['claims'][k]
                for k in ('lease', 'gpu', 'host', 'gmem', 'pct')
            },
        )
        # The library, as a GPU server's runtime calls it.
        claims = leasetokens.verify_with_service(
            lambda path, body: self.call(
                'POST', path, token='gpu-server', json=body
            )[1],
            self.token,
        )
        self.assertEqual(self.vgpu['lease_id'], claims.lease_id)

    def test_released_is_revoked_at_once(self):
        self.cyborg.arqs_.remove(self.arq)
        self.reconciler.run_pass()
        doc = self.check()
        self.assertEqual(
            (False, 'revoked: the lease was released'),
            (doc['valid'], doc['reason']),
        )

    def test_moved_is_refused(self):
        lease = self.ledger.get(self.vgpu['lease_id'])
        # The ledger's side of a move (the reconciler's, unit-tested
        # elsewhere): moving to another GPU, then active there.
        moving = self.ledger.transition(
            lease.id,
            lease.version,
            ledger_mod.LeaseState.MOVING,
            gpu_uuid='GPU-9',
            gpu_host='gpu9',
        )
        self.assertIn('revoked: the lease is moving', self.check()['reason'])
        self.ledger.transition(
            moving.id, moving.version, ledger_mod.LeaseState.ACTIVE
        )
        doc = self.check()
        self.assertFalse(doc['valid'])
        self.assertEqual(
            'moved: the lease is on GPU GPU-9 of gpu9 now', doc['reason']
        )

    def test_forged_and_bad_tokens(self):
        claims = leasetokens.unverified_claims(self.token)
        forged = leasetokens.sign(claims, b'not the key' * 3)
        self.assertIn('signature', self.check(forged)['reason'])
        self.assertIn('malformed', self.check('v1.x.y')['reason'])
        for body in ({}, {'token': 7}, {'token': 'x' * 5000}):
            status, _, _ = self.call(
                'POST',
                '/v1/lease-tokens/verify',
                token='gpu-server',
                json=body,
            )
            self.assertEqual(400, status, body)
