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

"""WSGI applications of the full sandbox, for gunicorn.

Each factory takes the service's configuration directory and builds the
stock application the way its project's WSGI script would. Several
projects hand ``sys.argv`` to oslo.config, which would then reject
gunicorn's own arguments; each factory sets the program name (and,
for Cyborg, the configuration files) before the application is built.
gunicorn calls them as ``orionx_cyborg.sandbox.full.apps:nova_api("DIR")``.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any


def _app(module: str, attribute: str = 'application') -> Any:
    return getattr(importlib.import_module(module), attribute)


def keystone(conf_dir: str) -> Any:
    sys.argv = ['keystone-wsgi-public']
    os.environ['OS_KEYSTONE_CONFIG_DIR'] = conf_dir
    from keystone.server import wsgi

    return wsgi.initialize_public_application()


def placement(conf_dir: str) -> Any:
    sys.argv = ['placement-api']
    os.environ['OS_PLACEMENT_CONFIG_DIR'] = conf_dir
    return _app('placement.wsgi.api')


def glance(conf_dir: str) -> Any:
    sys.argv = ['glance-api']
    os.environ['OS_GLANCE_CONFIG_DIR'] = conf_dir
    return _app('glance.wsgi.api')


def neutron(conf_dir: str) -> Any:
    sys.argv = ['neutron-api']
    os.environ['OS_NEUTRON_CONFIG_DIR'] = conf_dir
    application = _app('neutron.wsgi.api')
    # Port.port_forwardings is a backref that exists only once the
    # mappers are configured; an API-only process with no agents never
    # triggers that before GET /v2.0/ports needs it.
    import sqlalchemy.orm

    importlib.import_module('neutron.db.models.port_forwarding')
    sqlalchemy.orm.configure_mappers()
    return application


def _nova(conf_dir: str, program: str, module: str) -> Any:
    sys.argv = [program]
    os.environ['OS_NOVA_CONFIG_DIR'] = conf_dir
    # The paste file must come first: Nova takes the first as paste ini.
    os.environ['OS_NOVA_CONFIG_FILES'] = 'api-paste.ini;nova.conf'
    return _app(module)


def nova_api(conf_dir: str) -> Any:
    return _nova(conf_dir, 'nova-api', 'nova.wsgi.osapi_compute')


def nova_metadata(conf_dir: str) -> Any:
    return _nova(conf_dir, 'nova-metadata', 'nova.wsgi.metadata')


def cyborg(conf_dir: str) -> Any:
    sys.argv = [
        'cyborg-api',
        '--config-file',
        os.path.join(conf_dir, 'cyborg.conf'),
    ]
    return _app('cyborg.wsgi.api')


def attach(conf_file: str) -> Any:
    os.environ['ORIONX_CYBORG_ATTACH_CONFIG'] = conf_file
    sys.argv = ['orionx-cyborg-attach']
    return _app('orionx_cyborg.attach.wsgi')
