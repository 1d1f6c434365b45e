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

"""Unit tests of the attach service's own logic (no Cyborg, no Placement).

Sizes from device profile groups, derived secrets, the OrionX client
settings, the no-auth filter and the caller rules.
"""

import dataclasses
import os
import subprocess

import testtools

from orionx_cyborg import sizing
from orionx_cyborg.attach import binding
from orionx_cyborg.attach import context
from orionx_cyborg.attach import leasetokens
from orionx_cyborg.attach.runtimes import base as runtimes
from orionx_cyborg.attach.runtimes import orionx
from tests import base

DEFAULT = sizing.Size(8192, 25)


class TestSizing(testtools.TestCase):
    def test_group_keys_and_defaults(self):
        self.assertEqual(
            sizing.Size(16384, 50),
            sizing.size_of_group(
                {
                    'accel:orionx_gmem_mib': '16384',
                    'accel:orionx_compute_pct': '50',
                },
                DEFAULT,
            ),
        )
        self.assertEqual(
            sizing.Size(4096, 25),
            sizing.size_of_group({'accel:orionx_gmem_mib': ' 4096 '}, DEFAULT),
        )
        self.assertEqual(DEFAULT, sizing.size_of_group(None, DEFAULT))
        self.assertEqual(
            DEFAULT,
            sizing.size_of_group(
                {'resources:CUSTOM_ORIONX_VGPU': '1'}, DEFAULT
            ),
        )

    def test_bad_values(self):
        for value in ('16g', '0', '-5', ''):
            err = self.assertRaises(
                sizing.InvalidSize,
                sizing.size_of_group,
                {'accel:orionx_gmem_mib': value},
                DEFAULT,
            )
            self.assertIn('accel:orionx_gmem_mib', str(err))

    def test_larger_than_every_gpu(self):
        err = self.assertRaises(
            sizing.InvalidSize,
            sizing.check_fits,
            sizing.Size(200000, 25),
            [142747, 80896],
            [100, 100],
        )
        self.assertIn('largest pool GPU (142747 MiB)', str(err))
        err = self.assertRaises(
            sizing.InvalidSize,
            sizing.check_fits,
            sizing.Size(1024, 150),
            [142747],
            [100],
        )
        self.assertIn('(100%)', str(err))
        sizing.check_fits(sizing.Size(142747, 100), [142747], [100])
        self.assertRaises(
            sizing.InvalidSize, sizing.check_fits, DEFAULT, [], []
        )


class TestLeaseTokens(testtools.TestCase):
    NOW = 1_795_000_000.0
    KEY = 'k' * 32

    def claims(self, **changes):
        issuer = leasetokens.TokenIssuer(self.KEY, ttl_s=600)
        fields = dict(
            lease_id='L1',
            gpu_uuid='GPU-1',
            host='gpu1',
            gmem_mib=16384,
            compute_pct=25,
            now=self.NOW,
        )
        fields.update(changes)
        return issuer, issuer.claims(**fields)

    def test_a_server_learns_the_lease_and_its_size(self):
        issuer, claims = self.claims()
        token = issuer.issue(claims)
        key = leasetokens.server_key(self.KEY, 'gpu1')
        seen = leasetokens.verify(
            token, key, 'gpu1', gpu_uuid='GPU-1', now=self.NOW
        )
        self.assertEqual(claims, seen)
        self.assertEqual((16384, 25), (seen.gmem_mib, seen.compute_pct))
        # Valid for the whole TTL from issue, not until a window ends.
        self.assertEqual(self.NOW + 600, seen.expires_at)

    def test_one_servers_key_cannot_check_or_forge_anothers(self):
        issuer, claims = self.claims()
        token = issuer.issue(claims)
        other = leasetokens.server_key(self.KEY, 'gpu2')
        self.assertNotEqual(other, leasetokens.server_key(self.KEY, 'gpu1'))
        err = self.assertRaises(
            leasetokens.TokenRefused,
            leasetokens.verify,
            token,
            other,
            'gpu2',
            now=self.NOW,
        )
        self.assertIn('bad signature', err.reason)
        # gpu2 signs a token claiming gpu1: gpu1 refuses it.
        forged = leasetokens.sign(claims, other)
        key = leasetokens.server_key(self.KEY, 'gpu1')
        self.assertRaises(
            leasetokens.TokenRefused,
            leasetokens.verify,
            forged,
            key,
            'gpu1',
            now=self.NOW,
        )

    def test_refusals(self):
        issuer, claims = self.claims()
        token = issuer.issue(claims)
        key = leasetokens.server_key(self.KEY, 'gpu1')
        payload = token.split('.')[1]
        tampered = token.replace(payload, payload[:-2] + 'AA')
        for case, args, kwargs, reason in (
            ('tampered', (tampered, key, 'gpu1'), {}, 'signature'),
            ('garbage', ('v1.x.y', key, 'gpu1'), {}, 'malformed'),
            ('version', ('v9.x.y', key, 'gpu1'), {}, 'version'),
            ('other GPU', (token, key, 'gpu1'), {'gpu_uuid': 'G2'}, 'GPU'),
            ('other host', (token, key, 'gpu9'), {}, 'gpu1'),
            (
                'expired',
                (token, key, 'gpu1'),
                {'now': self.NOW + 600 + 31},
                'expired',
            ),
            (
                'future',
                (token, key, 'gpu1'),
                {'now': self.NOW - 31},
                'future',
            ),
        ):
            kwargs.setdefault('now', self.NOW)
            err = self.assertRaises(
                leasetokens.TokenRefused,
                leasetokens.verify,
                *args,
                **kwargs,
            )
            self.assertIn(reason, err.reason, case)

    def test_clock_skew_within_the_allowance_is_tolerated(self):
        issuer, claims = self.claims()
        token = issuer.issue(claims)
        key = leasetokens.server_key(self.KEY, 'gpu1')
        # A GPU server 20 s behind, and one 20 s past the expiry.
        for now in (self.NOW - 20, self.NOW + 600 + 20):
            leasetokens.verify(token, key, 'gpu1', now=now, skew_s=30)
        self.assertRaises(
            leasetokens.TokenRefused,
            leasetokens.verify,
            token,
            key,
            'gpu1',
            now=self.NOW - 20,
            skew_s=0,
        )

    def test_key_never_shown(self):
        issuer = leasetokens.TokenIssuer('super-secret-key', ttl_s=60)
        self.assertNotIn('super-secret-key', repr(issuer))
        self.assertRaises(ValueError, leasetokens.TokenIssuer, '', 60)
        self.assertRaises(ValueError, leasetokens.server_key, '', 'h')

    def test_hkdf_matches_rfc_5869_construction(self):
        import hashlib
        import hmac

        prk = hmac.new(
            b'orionx-cyborg lease tokens', b'key', hashlib.sha256
        ).digest()
        okm = hmac.new(prk, b'gpu-server:h1\x01', hashlib.sha256).digest()
        self.assertEqual(okm, leasetokens.server_key('key', 'h1'))


def vgpu(
    lease='L1',
    host='gpu2',
    transport=binding.Transport.TCP,
    gmem=16384,
    compute=25,
    state='active',
):
    return binding.VgpuBinding(
        lease_id=lease,
        pool='default',
        state=state,
        gmem_mib=gmem,
        compute_pct=compute,
        gpu_uuid='GPU-1',
        gpu_host=host,
        endpoint=binding.Endpoint('10.0.0.2', 9960, transport)
        if state == 'active'
        else None,
        secret='s3cret' if state == 'active' else None,
    )


class TestOrionXRuntime(base.TestCase):
    def runtime(self, **options):
        runtimes.register_plugin_opts(
            self.conf, 'orionx', orionx.OrionXRuntime
        )
        for name, value in options.items():
            self.conf.set_override(name, value, 'orionx_runtime_orionx')
        return orionx.OrionXRuntime(self.conf, 'orionx')

    def test_settings_of_two_vgpus(self):
        instance = binding.InstanceBinding(
            'vm', 'p', (vgpu('L1'), vgpu('L2', compute=50))
        )
        settings = self.runtime().render(instance)
        self.assertEqual(
            {
                'ORION_CONTROLLER': '10.0.0.2:9960',
                'ORION_VGPU': '2',
                'ORION_GMEM': '16384',
                'ORION_RATIO': '25',
            },
            settings.environment,
        )
        conf = settings.files[orionx.CLIENT_CONF]
        self.assertIn('controller_addr = 10.0.0.2:9960', conf)
        self.assertIn('enable_net = true', conf)
        self.assertIn('the smallest', conf)
        self.assertTrue(settings.cloud_init.startswith('#cloud-config'))
        self.assertIn('export ORION_VGPU=2', settings.cloud_init)
        self.assertNotIn('s3cret', settings.cloud_init)

    def run_profile_script(self, script):
        """What a guest's login shell gets from *script* (really run)."""
        path = os.path.join(self.tmp, 'orionx-vgpu.sh')
        with open(path, 'w') as f:
            f.write(script)
        result = subprocess.run(
            [
                'sh',
                '-c',
                '. "$1" && printf %s "$ORION_CONTROLLER"',
                'sh',
                path,
            ],
            cwd=self.tmp,
            env={'PATH': os.environ['PATH']},
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        return result.stdout

    def test_the_guest_runs_no_command_from_an_address(self):
        marker = os.path.join(self.tmp, 'pwned')
        attack = '$(touch %s)`touch %s`;touch %s' % (marker, marker, marker)
        for settings in (
            # A configured controller address.
            self.runtime(controller='ctl:9123' + attack).render(
                binding.InstanceBinding('vm', 'p', (vgpu(),))
            ),
            # A GPU server reached by its host name (from Cyborg).
            self.runtime().render(
                binding.InstanceBinding(
                    'vm',
                    'p',
                    (
                        dataclasses.replace(
                            vgpu(),
                            endpoint=binding.Endpoint(
                                'gpu2' + attack, 9960, binding.Transport.TCP
                            ),
                        ),
                    ),
                )
            ),
        ):
            script = settings.files[orionx.PROFILE_SCRIPT]
            seen = self.run_profile_script(script)
            self.assertFalse(os.path.exists(marker), script)
            self.assertEqual(settings.environment['ORION_CONTROLLER'], seen)
            self.assertIn(attack, seen)

    def test_a_newline_adds_no_line(self):
        settings = self.runtime(
            controller='ctl:9123\n[client]\nenable_net = evil'
        ).render(binding.InstanceBinding('vm', 'p', (vgpu(),)))
        conf = settings.files[orionx.CLIENT_CONF]
        lines = conf.splitlines()
        self.assertEqual(1, lines.count('[client]'))
        self.assertNotIn('enable_net = evil', lines)
        self.assertEqual(
            4, len(settings.files[orionx.PROFILE_SCRIPT].splitlines())
        )

    def test_shared_memory_and_configured_controller(self):
        instance = binding.InstanceBinding(
            'vm', 'p', (vgpu(transport=binding.Transport.SHM),)
        )
        settings = self.runtime(
            controller='ctl:9123', cloud_init=False
        ).render(instance)
        self.assertEqual('ctl:9123', settings.environment['ORION_CONTROLLER'])
        self.assertIn('enable_net = false', settings.files[orionx.CLIENT_CONF])
        self.assertIsNone(settings.cloud_init)

    def test_nothing_active_renders_nothing(self):
        instance = binding.InstanceBinding(
            'vm', 'p', (vgpu(state='pending'),), retry_after=15
        )
        settings = self.runtime().render(instance)
        self.assertEqual({}, settings.environment)
        self.assertEqual('pending', instance.to_dict()['status'])
        self.assertEqual(15, instance.to_dict()['retry_after'])

    def test_unknown_runtime_names_the_option(self):
        err = self.assertRaises(
            runtimes.RuntimeNotFound, runtimes.load, self.conf, 'bitfusion'
        )
        self.assertIn('[orionx_attach] runtime', str(err))
        self.assertIn('orionx', str(err))

    def test_loads_through_its_entry_point(self):
        runtime = runtimes.load(self.conf, 'orionx')
        self.assertIsInstance(runtime, orionx.OrionXRuntime)
        self.assertTrue(runtime.options.cloud_init)


class TestContext(testtools.TestCase):
    users = context.ServiceUsers(
        nova=context.ServiceUser('nova', 'Default'),
        cyborg=context.ServiceUser('cyborg', 'Default'),
    )

    def identity(self, token, extra=None):
        seen = {}

        def app(environ, start_response):
            seen.update(environ)
            return [b'']

        environ = {'HTTP_X_AUTH_TOKEN': token} if token else {}
        environ.update(extra or {})
        context.NoAuthMiddleware(app)(environ, None)
        return context.from_environ(seen, self.users)

    def test_sandbox_identities(self):
        nova = self.identity('nova')
        self.assertEqual('nova', nova.service_identity)
        self.assertIn('service', nova.roles)
        self.assertNotIn('admin', nova.roles)
        self.assertEqual('cyborg', self.identity('cyborg').service_identity)
        admin = self.identity('admin')
        self.assertEqual('all', admin.system_scope)
        self.assertIsNone(admin.project_id)
        self.assertIsNone(admin.service_identity)
        project_admin = self.identity('admin:p1')
        self.assertEqual(
            ('p1', None),
            (project_admin.project_id, project_admin.system_scope),
        )
        member = self.identity('demo:p1')
        self.assertEqual('p1', member.project_id)
        self.assertEqual({'member', 'reader'}, set(member.roles))
        self.assertEqual(32, len(self.identity('demo').project_id))
        values = nova.to_policy_values()
        self.assertEqual('nova', values['service_identity'])

    def test_service_identity_needs_the_configured_user(self):
        for user, domain_name, domain_id, expected in (
            ('nova', 'Default', 'default', 'nova'),
            # Matched by domain id too (the option names one or the other).
            ('nova', None, 'Default', 'nova'),
            ('nova', 'other', 'o1', None),
            ('glance', 'Default', 'default', None),
            ('cyborg', 'Default', 'default', 'cyborg'),
        ):
            ctx = context.RequestContext(
                user_id='u-' + user,
                user_name=user,
                user_domain_name=domain_name,
                user_domain_id=domain_id,
            )
            self.assertEqual(expected, self.users.identify(ctx), user)
        by_id = context.ServiceUsers(
            nova=context.ServiceUser('abc', 'Default'),
            cyborg=context.ServiceUser('', 'Default'),
        )
        self.assertEqual(
            'nova', by_id.identify(context.RequestContext(user_id='abc'))
        )
        # An empty option names nobody, not a token without a user.
        self.assertIsNone(by_id.identify(context.RequestContext()))

    def test_no_token_no_identity_and_spoofing_is_dropped(self):
        self.assertIsNone(
            self.identity(
                None,
                {
                    'HTTP_X_IDENTITY_STATUS': 'Confirmed',
                    'HTTP_X_ROLES': 'admin',
                },
            )
        )
        spoofed = self.identity(
            'demo:p1',
            {
                'HTTP_X_ROLES': 'admin',
                'HTTP_X_SERVICE_ROLES': 'service',
                'HTTP_OPENSTACK_SYSTEM_SCOPE': 'all',
            },
        )
        self.assertNotIn('admin', spoofed.roles)
        self.assertEqual([], spoofed.service_roles)
        self.assertIsNone(spoofed.system_scope)
