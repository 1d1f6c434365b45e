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

"""Strict admission's hook into Cyborg's conductor."""

from unittest import mock

import testtools

from orionx_cyborg import exception
from orionx_cyborg.admission import client as client_mod
from orionx_cyborg.admission import conductor as conductor_mod
from orionx_cyborg.admission import ext_arq
from orionx_cyborg.conf import admission as admission_conf
from tests import base


class TestVersionGuard(testtools.TestCase):
    def test_supported_release(self):
        self.assertEqual('17.0.0', ext_arq.check_cyborg_version('17.0.0'))

    def test_other_releases_are_refused_with_the_way_out(self):
        err = self.assertRaises(
            exception.UnsupportedCyborg,
            ext_arq.check_cyborg_version,
            '18.0.1',
        )
        self.assertIn('18.0.1', str(err))
        self.assertIn('stock cyborg-conductor', str(err))

    def test_wrapper_refuses_before_touching_cyborg(self):
        conductor = mock.Mock()
        with mock.patch.object(
            ext_arq,
            'check_cyborg_version',
            autospec=True,
            side_effect=exception.UnsupportedCyborg(
                supported='17.x', found='18.0.0'
            ),
        ):
            self.assertEqual(2, conductor_mod.main([], conductor=conductor))
        conductor.assert_not_called()


class Refusing:
    def __init__(self):
        self.bodies = []

    def admit(self, body):
        self.bodies.append(body)
        raise exception.AttachServiceRefused(
            arq=body['arq_uuid'], reason='pool default is full'
        )


class TestInstall(base.TestCase):
    def test_registers_a_subclass_for_entitlements(self):
        from cyborg.objects.ext_arq import ExtARQ

        factory = dict(getattr(ExtARQ, '_factory', {}))
        self.addCleanup(setattr, ExtARQ, '_factory', factory)
        client = Refusing()
        registered = ext_arq.install(self.conf, client=client)
        self.assertIs(registered, ExtARQ.factory('CUSTOM_ORIONX_VGPU'))
        self.assertTrue(issubclass(registered, ExtARQ))
        arq = mock.Mock(
            uuid='a1',
            instance_uuid='i1',
            hostname='cpu1',
            project_id='p1',
            device_rp_uuid='rp',
            device_profile_name='pool16',
            device_profile_group_id=0,
        )
        instance = registered.__new__(registered)
        # The ARQ is a versioned-object field; a property stands in for it.
        arq_field = mock.patch.object(  # noqa: H210
            registered, 'arq', new_callable=mock.PropertyMock, return_value=arq
        )
        with (
            arq_field,
            mock.patch.object(ExtARQ, 'bind', autospec=True) as parent_bind,
        ):
            self.assertRaises(
                exception.AttachServiceRefused,
                instance.bind,
                mock.Mock(project_id='p1'),
                mock.Mock(),
            )
        parent_bind.assert_not_called()
        self.assertEqual('i1', client.bodies[0]['instance_uuid'])

    def test_fail_open_lets_the_bind_go_on(self):
        admission_conf.register_opts(self.conf)
        self.conf.set_override('fail_open', True, 'orionx_admission')
        client = client_mod.AdmissionClient(self.conf)
        client._unreachable({'arq_uuid': 'a1'}, 'connection refused')
        self.conf.set_override('fail_open', False, 'orionx_admission')
        self.assertRaises(
            exception.AttachServiceRefused,
            client._unreachable,
            {'arq_uuid': 'a1'},
            'connection refused',
        )
