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

"""Every policy rule of the attach service, for every kind of caller,
through keystonemiddleware's auth_token (its own token fixture) and the
service's real policy enforcer.

The personas and expectations are in :mod:`tests.authz`, shared with the
tests against a real Keystone.
"""

import uuid

from keystoneauth1 import fixture as ks_fixture
from keystonemiddleware import fixture as ksm_fixture
from werkzeug import test as werkzeug_test

from orionx_cyborg import exception
from orionx_cyborg.attach import api
from orionx_cyborg.attach import app as app_mod
from orionx_cyborg.attach import context
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach import pipeline
from orionx_cyborg.attach import policies
from orionx_cyborg.attach import policy
from tests import authz
from tests.unit.attach import test_api


class FixtureTokens:
    """Tokens of :data:`tests.authz.PERSONAS` from auth_token's fixture."""

    def __init__(self, fixture):
        self.fixture = fixture

    def token(self, persona):
        token = ks_fixture.V3Token(
            user_id=persona.user_id,
            user_name=persona.user_name,
            user_domain_id=persona.user_domain,
            user_domain_name=(
                'Default' if persona.user_domain == 'default' else 'Other'
            ),
            project_id=persona.project_id,
            project_domain_id='default' if persona.project_id else None,
            domain_id=persona.domain_id,
        )
        if persona.system:
            token.system = {'all': True}
        for role in persona.roles:
            token.add_role(name=role)
        return self.fixture.add_token(token)


class PolicyTestCase(test_api.ApiTestCase):
    def setUp(self):
        super().setUp()
        app_mod.register_opts(self.conf)
        # As an operator writes it; auth_token registers its options late.
        self.config_file(
            '[orionx_attach]\nauth_strategy = keystone\n'
            '[keystone_authtoken]\n'
            'www_authenticate_uri = http://keystone.invalid/identity\n'
        )
        self.tokens = FixtureTokens(
            self.useFixture(ksm_fixture.AuthTokenFixture())
        )
        self.client = self.make_client()
        self.instance_a = str(uuid.uuid4())
        self.instance_b = str(uuid.uuid4())
        self.cyborg.bind(self.instance_a, project=authz.PROJECT_A)
        self.cyborg.bind(self.instance_b, project=authz.PROJECT_B)
        self.reconciler.run_pass()
        self.lease_a = self.ledger.list(instance=self.instance_a)[0].id

    def make_client(self):
        application = api.create_app(
            self.service,
            self.reconciler,
            enforcer=app_mod.load_policy(self.conf),
            service_users=context.ServiceUsers.from_conf(self.conf),
            health=self.health,
        )
        # The production assembly: the middleware pipeline, auth_token
        # behind it, public paths around it.
        application = pipeline.build(
            self.conf,
            application,
            lambda inner: app_mod._authenticated(self.conf, inner),
            self.health,
        )
        return werkzeug_test.Client(application)

    def as_(self, name, method, path, **kwargs):
        token = self.tokens.token(authz.PERSONAS[name])
        return self.call(method, path, token=token, **kwargs)


class TestEveryRuleForEveryCaller(PolicyTestCase):
    def each(self, allowed, method, path, ok, **kwargs):
        for name in authz.PERSONAS:
            status, doc, _ = self.as_(name, method, path, **kwargs)
            expected = ok if name in allowed else 403
            self.assertEqual(
                expected, status, '%s %s as %s: %s' % (method, path, name, doc)
            )

    def test_vendordata_only_to_novas_service_user_and_operators(self):
        self.each(
            authz.VENDORDATA,
            'POST',
            '/v1/vendordata',
            200,
            json={'instance-id': self.instance_a},
        )

    def test_admissions_only_to_cyborgs_service_user(self):
        # An allowed caller gets past the policy to the body check.
        self.each(authz.ADMISSIONS, 'POST', '/v1/admissions', 400, json={})

    def test_lease_token_checks_only_to_services_and_operators(self):
        self.each(
            authz.LEASE_TOKENS,
            'POST',
            '/v1/lease-tokens/verify',
            200,
            json={'token': 'v1.x.y'},
        )

    def test_pools_and_reconcile_only_to_operators(self):
        self.each(authz.OPERATORS, 'GET', '/v1/pools', 200)
        self.each(authz.OPERATORS, 'GET', '/v1/pools/default', 200)
        self.each(authz.OPERATORS, 'POST', '/v1/reconcile', 200)

    def test_lease_listing(self):
        every = {self.instance_a, self.instance_b}
        own = {
            authz.PROJECT_A: {self.instance_a},
            authz.PROJECT_B: {self.instance_b},
        }
        for name, persona in authz.PERSONAS.items():
            status, doc, _ = self.as_(name, 'GET', '/v1/leases')
            if name in authz.ALL_LEASES:
                expected = every
            elif name in authz.OWN_LEASES:
                expected = own.get(persona.project_id, set())
            else:
                self.assertEqual(403, status, name)
                continue
            self.assertEqual(200, status, name)
            seen = {lease['instance_uuid'] for lease in doc['leases']}
            self.assertEqual(expected, seen, name)
            # Asking for another project is no way around it.
            status, doc, _ = self.as_(
                name, 'GET', '/v1/leases?project=' + authz.PROJECT_B
            )
            seen = {lease['instance_uuid'] for lease in doc['leases']}
            self.assertEqual(expected & {self.instance_b}, seen, name)

    def test_lease_show(self):
        path = '/v1/leases/' + self.lease_a
        for name in authz.PERSONAS:
            status, doc, _ = self.as_(name, 'GET', path)
            if name in authz.LEASE_OF_A:
                self.assertEqual(200, status, name)
                self.assertEqual(self.instance_a, doc['instance_uuid'])
            elif name in authz.OWN_LEASES:
                # Another project's lease is as unknown as a missing one.
                self.assertEqual(404, status, name)
            else:
                self.assertEqual(403, status, name)

    def test_health_and_metrics_need_no_token(self):
        for path in ('/healthz', '/metrics', '/'):
            status, _, _ = self.call('GET', path, token=None)
            self.assertEqual(200, status, path)
        status, _, _ = self.call('GET', '/v1/leases', token=None)
        self.assertEqual(401, status)

    def test_spoofed_identity_headers_are_ignored(self):
        # auth_token removes identity headers a client sends.
        token = self.tokens.token(authz.PERSONAS['member'])
        response = self.client.open(
            '/v1/pools',
            headers={
                'X-Auth-Token': token,
                'X-Roles': 'admin',
                'OpenStack-System-Scope': 'all',
                'X-User-Name': 'nova',
            },
        )
        self.assertEqual(403, response.status_code)


class TestLegacyProjectAdmin(PolicyTestCase):
    """The deprecated fallback: an admin of any project as operator.

    On with [oslo_policy] enforce_new_defaults = False.
    """

    def test_off_by_default(self):
        status, _, _ = self.as_('unrelated_admin', 'GET', '/v1/pools')
        self.assertEqual(403, status)

    def test_project_admin_is_an_operator_when_asked_for(self):
        self.conf.set_override('enforce_new_defaults', False, 'oslo_policy')
        self.client = self.make_client()
        status, _, _ = self.as_('unrelated_admin', 'GET', '/v1/pools')
        self.assertEqual(200, status)
        _, doc, _ = self.as_('unrelated_admin', 'GET', '/v1/leases')
        self.assertEqual(2, len(doc['leases']))
        # Never the services' calls: those stay bound to their users.
        status, _, _ = self.as_(
            'unrelated_admin', 'POST', '/v1/admissions', json={}
        )
        self.assertEqual(403, status)
        # A member is still no operator.
        status, _, _ = self.as_('member', 'GET', '/v1/pools')
        self.assertEqual(403, status)


class TestConfiguredServiceUsers(PolicyTestCase):
    def test_nova_by_user_id(self):
        self.conf.set_override(
            'nova_service_user',
            authz.PERSONAS['glance'].user_id,
            'orionx_attach',
        )
        self.client = self.make_client()
        body = {'instance-id': self.instance_a}
        status, _, _ = self.as_('glance', 'POST', '/v1/vendordata', json=body)
        self.assertEqual(200, status)
        status, _, _ = self.as_('nova', 'POST', '/v1/vendordata', json=body)
        self.assertEqual(403, status)


class TestPolicyFile(PolicyTestCase):
    def test_an_operator_override_applies(self):
        path = '%s/policy.yaml' % self.tmp
        with open(path, 'w') as f:
            f.write('"orionx_attach:pools:list": "role:reader"\n')
        self.conf.set_override('policy_file', path, 'oslo_policy')
        self.client = self.make_client()
        status, _, _ = self.as_('member', 'GET', '/v1/pools')
        self.assertEqual(200, status)

    def test_a_rule_naming_an_unknown_rule_stops_the_start(self):
        path = '%s/policy.yaml' % self.tmp
        with open(path, 'w') as f:
            f.write('"orionx_attach:pools:list": "rule:no_such_rule"\n')
        self.conf.set_override('policy_file', path, 'oslo_policy')
        err = self.assertRaises(
            exception.ConfigurationError, app_mod.load_policy, self.conf
        )
        self.assertIn('policy_file', str(err))


class TestRulesInCode(PolicyTestCase):
    def test_every_rule_is_documented_and_scoped(self):
        names = set()
        for rule in policies.list_rules():
            names.add(rule.name)
            self.assertTrue(rule.description, rule.name)
            if rule.name.startswith('orionx_attach:'):
                self.assertTrue(rule.operations, rule.name)
                self.assertNotIn('domain', rule.scope_types, rule.name)
        self.assertIn('admin_api', names)

    def test_an_unknown_project_never_means_every_project(self):
        for project in (None, ''):
            self.assertRaises(
                ledger_mod.InvalidArgument, self.ledger.list, project=project
            )
        self.assertEqual(
            2, len(self.ledger.list(project=ledger_mod.ANY_PROJECT))
        )

    def test_enforcer_refuses_a_scope_the_rule_does_not_take(self):
        enforcer = policy.Enforcer(self.conf)
        ctx = context.RequestContext(
            user_id='u', domain_id=authz.DOMAIN, roles=['admin']
        )
        self.assertFalse(
            enforcer.authorize(ctx, 'orionx_attach:pools:list', {})
        )
        self.assertRaises(
            policy.PolicyNotAuthorized,
            enforcer.require,
            ctx,
            'orionx_attach:pools:list',
            {},
        )
