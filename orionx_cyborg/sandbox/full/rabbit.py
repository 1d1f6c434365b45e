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

"""A private RabbitMQ node in the state directory.

Debian's ``rabbitmq-server`` package, started as the calling user from
``/usr/lib/rabbitmq/bin`` (the ``/usr/sbin`` wrappers switch to the
``rabbitmq`` user and its home, where the sandbox's node is out of
reach), with its own node name, ports, Erlang cookie, database and logs
under ``rabbitmq/``. The node starts its own ``epmd`` on the sandbox's
port; that daemon outlives the node, so :func:`stop_epmd` ends it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib
import secrets
import shutil
import socket
import subprocess

from orionx_cyborg.sandbox.full import layout

RABBITMQ_BIN = pathlib.Path('/usr/lib/rabbitmq/bin')
SERVER = RABBITMQ_BIN / 'rabbitmq-server'
EPMD = 'epmd'


class RabbitMQMissing(RuntimeError):
    pass


def check_installed() -> None:
    if not SERVER.exists() or shutil.which(EPMD) is None:
        raise RabbitMQMissing(
            'the full sandbox needs RabbitMQ: %s is missing; install the '
            'Debian package rabbitmq-server (apt-get install '
            'rabbitmq-server)' % SERVER
        )


def node_name(manifest: layout.FullManifest) -> str:
    return 'orionx%d@localhost' % manifest.ports['amqp']


def environment(
    state: layout.FullLayout, manifest: layout.FullManifest
) -> dict[str, str]:
    """Variables of the node (and of rabbitmqctl talking to it)."""
    root = state.rabbitmq
    return {
        'RABBITMQ_NODENAME': node_name(manifest),
        'RABBITMQ_NODE_IP_ADDRESS': '127.0.0.1',
        'RABBITMQ_NODE_PORT': str(manifest.ports['amqp']),
        'RABBITMQ_DIST_PORT': str(manifest.ports['rabbit-dist']),
        'RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS': (
            '-kernel inet_dist_use_interface {127,0,0,1}'
        ),
        'ERL_EPMD_PORT': str(manifest.ports['epmd']),
        'ERL_EPMD_ADDRESS': '127.0.0.1',
        'RABBITMQ_MNESIA_BASE': str(root / 'mnesia'),
        'RABBITMQ_LOG_BASE': str(root / 'log'),
        'RABBITMQ_PID_FILE': str(root / 'rabbit.pid'),
        'RABBITMQ_CONFIG_FILE': str(root / 'rabbitmq'),
        'RABBITMQ_ADVANCED_CONFIG_FILE': str(root / 'advanced.config'),
        'RABBITMQ_CONF_ENV_FILE': str(root / 'rabbitmq-env.conf'),
        'RABBITMQ_ENABLED_PLUGINS_FILE': str(root / 'enabled_plugins'),
        'RABBITMQ_ENABLED_PLUGINS': '',
        # The Erlang cookie lives in $HOME.
        'HOME': str(root / 'home'),
        'PATH': '%s:%s' % (RABBITMQ_BIN, os.environ.get('PATH', '')),
    }


def password_hash(password: str) -> str:
    """RabbitMQ's ``rabbit_password_hashing_sha256`` of *password*."""
    salt = secrets.token_bytes(4)
    digest = hashlib.sha256(salt + password.encode()).digest()
    return base64.b64encode(salt + digest).decode()


def definitions(manifest: layout.FullManifest) -> dict[str, object]:
    """The user and a virtual host per region, loaded at the node's boot.

    A node that loads definitions creates no default user or virtual
    host, so they are here too; no ``rabbitmqctl`` call (seconds of an
    Erlang VM each) is needed once the node is up.
    """
    vhosts = ['/' if r == layout.REGION else r for r in manifest.regions]
    return {
        'users': [
            {
                'name': 'openstack',
                'password_hash': password_hash(manifest.passwords['rabbitmq']),
                'hashing_algorithm': 'rabbit_password_hashing_sha256',
                'tags': ['administrator'],
            }
        ],
        'vhosts': [{'name': vhost} for vhost in vhosts],
        'permissions': [
            {
                'user': 'openstack',
                'vhost': vhost,
                'configure': '.*',
                'write': '.*',
                'read': '.*',
            }
            for vhost in vhosts
        ],
    }


def write_config(
    state: layout.FullLayout, manifest: layout.FullManifest
) -> None:
    root = state.rabbitmq
    for sub in ('mnesia', 'log', 'home'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    conf = (
        'listeners.tcp.default = 127.0.0.1:%d\n'
        'loopback_users = none\n'
        'default_user = openstack\n'
        'default_pass = %s\n'
        'log.console = false\n'
        'log.file.level = warning\n'
        % (manifest.ports['amqp'], manifest.passwords['rabbitmq'])
    )
    if len(manifest.regions) > 1:
        path = root / 'definitions.json'
        path.touch(mode=0o600)
        path.write_text(json.dumps(definitions(manifest), indent=2))
        conf += 'load_definitions = %s\n' % path
    (root / 'rabbitmq.conf').write_text(conf)
    (root / 'rabbitmq.conf').chmod(0o600)
    (root / 'enabled_plugins').write_text('[].\n')
    (root / 'advanced.config').write_text('[].\n')
    (root / 'rabbitmq-env.conf').write_text('')


def accepts(manifest: layout.FullManifest) -> bool:
    """Whether the AMQP listener accepts connections (the node is up)."""
    try:
        with socket.create_connection(
            ('127.0.0.1', manifest.ports['amqp']), timeout=1
        ):
            return True
    except OSError:
        return False


def stop_epmd(manifest: layout.FullManifest) -> None:
    """End the node's own epmd (only the one on the sandbox's port)."""
    epmd = shutil.which(EPMD)
    if epmd is None:
        return
    subprocess.run(  # noqa: S603 - fixed program, our port
        [epmd, '-port', str(manifest.ports['epmd']), '-kill'],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=10,
        check=False,
    )
