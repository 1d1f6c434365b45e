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

"""Clients of the OpenStack services this project calls.

One home for client construction: the keystoneauth adapter loader
(:mod:`.adapter`, options from :mod:`orionx_cyborg.conf.auth`), the
microversions (:mod:`.microversions`), the one retry helper
(:mod:`.retry`), JSON over an adapter with errors converted
(:mod:`.http`), the Cyborg and Placement clients the attach service and
the profile sync share (:mod:`.cyborg`, :mod:`.placement`), and the
client of the attach service's own API (:mod:`.attach`) that the
commands and the dashboards share. The sandbox's own clients (which
play Nova and operators) are in :mod:`orionx_cyborg.sandbox.clients`;
the operator CLI's openstacksdk connection in
:mod:`orionx_cyborg.cmd.connection`.
"""

from orionx_cyborg.clients.attach import AttachClient
from orionx_cyborg.clients.cyborg import Arq
from orionx_cyborg.clients.cyborg import CyborgClient
from orionx_cyborg.clients.cyborg import Deployable
from orionx_cyborg.clients.cyborg import Device
from orionx_cyborg.clients.cyborg import DeviceProfile
from orionx_cyborg.clients.errors import BadRequest
from orionx_cyborg.clients.errors import ConnectFailed
from orionx_cyborg.clients.errors import Forbidden
from orionx_cyborg.clients.errors import GenerationConflict
from orionx_cyborg.clients.errors import NoRoom
from orionx_cyborg.clients.errors import NotFound
from orionx_cyborg.clients.errors import RequestFailed
from orionx_cyborg.clients.errors import ServerError
from orionx_cyborg.clients.errors import ServiceUnavailable
from orionx_cyborg.clients.errors import TimedOut
from orionx_cyborg.clients.errors import Unauthorized
from orionx_cyborg.clients.placement import CONSUMER_TYPE
from orionx_cyborg.clients.placement import ConsumerAllocations
from orionx_cyborg.clients.placement import PlacementClient

__all__ = [
    'CONSUMER_TYPE',
    'Arq',
    'AttachClient',
    'BadRequest',
    'ConnectFailed',
    'ConsumerAllocations',
    'CyborgClient',
    'Deployable',
    'Device',
    'DeviceProfile',
    'Forbidden',
    'GenerationConflict',
    'NoRoom',
    'NotFound',
    'PlacementClient',
    'RequestFailed',
    'ServerError',
    'ServiceUnavailable',
    'TimedOut',
    'Unauthorized',
]
