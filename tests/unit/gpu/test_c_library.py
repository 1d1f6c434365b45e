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

"""The NVML seam through the dynamic loader and a C library.

A stand-in ``libnvidia-ml.so.1`` built from ``nvml_standin.c`` checks what
the Python simulation cannot: that pynvml's ctypes structures, our
``nvml_library`` option and the loader path work with a real C ABI.
"""

import json
import os
import shutil
import subprocess
import sys

import fixtures
import testtools

HERE = os.path.dirname(os.path.abspath(__file__))


class TestCLibrary(testtools.TestCase):
    def setUp(self):
        super().setUp()
        compiler = shutil.which('cc') or shutil.which('gcc')
        if compiler is None:
            self.skipTest('no C compiler to build the stand-in library')
        self.libdir = self.useFixture(fixtures.TempDir()).path
        self.library = os.path.join(self.libdir, 'libnvidia-ml.so.1')
        subprocess.run(
            [
                compiler,
                '-shared',
                '-fPIC',
                '-Wall',
                '-Werror',
                '-o',
                self.library,
                os.path.join(HERE, 'nvml_standin.c'),
            ],
            check=True,
        )
        self.state = self.useFixture(fixtures.TempDir()).path

    def discover(self, *argv, env=None):
        conf = os.path.join(self.state, 'cyborg.conf')
        with open(conf, 'w') as stream:
            stream.write(
                '[orionx_gpu]\nstate_dir = %s\n%s'
                % (self.state, ''.join(argv))
            )
        output = subprocess.run(
            [
                sys.executable,
                '-m',
                'orionx_cyborg.cmd.cli',
                'discover',
                '--json',
                '--host',
                'abi',
                '--config-file',
                conf,
            ],
            check=True,
            capture_output=True,
            text=True,
            env=dict(os.environ, **(env or {})),
        )
        return json.loads(output.stdout)

    def check(self, document):
        self.assertIsNone(document['nvml_failure'])
        self.assertEqual('999.99-standin', document['driver_version'])
        gpus = document['gpus']
        self.assertEqual(
            ['0000:18:00.0', '0000:2a:00.0'], [g['pci_address'] for g in gpus]
        )
        self.assertEqual({'NVIDIA H200'}, {g['name'] for g in gpus})
        self.assertEqual({'2335'}, {g['pci_device_id'] for g in gpus})
        self.assertEqual({143771}, {g['memory_mib'] for g in gpus})
        self.assertEqual({'9.0'}, {g['compute_capability'] for g in gpus})
        # Symbols the stand-in lacks leave facts out, never fail a GPU.
        self.assertEqual([], document['unreachable'])
        names = [d['deployables'][0]['name'] for d in document['devices']]
        self.assertEqual(
            ['abi_0000_18_00_0_PGPU', 'abi_0000_2a_00_0_PGPU'], names
        )

    def test_first_on_the_loader_path(self):
        self.check(self.discover(env={'LD_LIBRARY_PATH': self.libdir}))

    def test_nvml_library_option(self):
        self.check(self.discover('nvml_library = %s\n' % self.library))
