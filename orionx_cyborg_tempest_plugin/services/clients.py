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

"""REST clients of the attach service and of what the tests ask Cyborg.

:class:`AttachClient` speaks the attach service's API (``/v1/leases``,
``/v1/pools``, ``/v1/reconcile``, ``/v1/vendordata``,
``/v1/lease-tokens/verify``). :class:`AcceleratorClient` has the few
Cyborg calls the scenario tests need (device profiles, ARQs of a
server): this plugin does not depend on cyborg-tempest-plugin.
"""

from urllib import parse

from oslo_serialization import jsonutils as json
from tempest.lib.common import rest_client


class _JSONClient(rest_client.RestClient):
    def _answer(self, resp, body):
        return rest_client.ResponseBody(resp, json.loads(body) if body else {})

    def _get(self, path, params=None):
        if params:
            path += '?' + parse.urlencode(params)
        resp, body = self.get(path)
        self.expected_success(200, resp.status)
        return self._answer(resp, body)

    def _post(self, path, document, expected=200):
        resp, body = self.post(path, json.dumps(document))
        self.expected_success(expected, resp.status)
        return self._answer(resp, body)


class AttachClient(_JSONClient):
    """orionx-cyborg-attach's API, as the credentials it was made with."""

    def list_leases(self, **params):
        """GET /v1/leases (filters: instance, project, host, pool, state)."""
        return self._get('/v1/leases', params)

    def show_lease(self, lease_id):
        return self._get('/v1/leases/%s' % parse.quote(lease_id, safe=''))

    def list_pools(self):
        return self._get('/v1/pools')

    def show_pool(self, name):
        return self._get('/v1/pools/%s' % parse.quote(name, safe=''))

    def reconcile(self):
        """POST /v1/reconcile: one reconcile pass now (an operator's)."""
        return self._post('/v1/reconcile', {})

    def vendordata(self, instance_id, project_id=None):
        """POST /v1/vendordata: the binding document Nova asks for."""
        document = {'instance-id': instance_id}
        if project_id is not None:
            document['project-id'] = project_id
        return self._post('/v1/vendordata', document)

    def verify_lease_token(self, token):
        return self._post('/v1/lease-tokens/verify', {'token': token})

    def unauthenticated(self, method, path, document=None):
        """*method* on *path* without a token: (status, parsed body)."""
        body = None if document is None else json.dumps(document)
        headers = {
            'Content-Type': 'application/json',
            'Accept': 'application/json',
        }
        resp, text = self.raw_request(
            self.base_url + path, method, headers=headers, body=body
        )
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            answer = {'text': text}
        return resp.status, answer


class AcceleratorClient(_JSONClient):
    """Cyborg's API (v2): device profiles and a server's ARQs."""

    def create_device_profile(self, name, groups, description=None):
        profile = {'name': name, 'groups': groups}
        if description:
            profile['description'] = description
        return self._post('/device_profiles', [profile], expected=201)

    def delete_device_profile(self, name):
        resp, body = self.delete(
            '/device_profiles/%s' % parse.quote(name, safe='')
        )
        self.expected_success(204, resp.status)
        return self._answer(resp, body)

    def list_arqs_of(self, instance_uuid):
        return self._get('/accelerator_requests', {'instance': instance_uuid})[
            'arqs'
        ]
