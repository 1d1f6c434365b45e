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

"""The lease ledger of the attach service: lease metadata in SQL.

:class:`Ledger` is the API; it takes :class:`NewLease` and returns frozen
:class:`LeaseRecord`, :class:`LeaseEvent` and :class:`GpuUsage` values.
The state machine is in :mod:`~orionx_cyborg.attach.ledger.states`, the
errors in :mod:`~orionx_cyborg.attach.ledger.errors`, the schema's
migrations in ``migrations/`` (run by :meth:`Ledger.upgrade` or
:func:`~orionx_cyborg.attach.ledger.dbsync.main`).
"""

from orionx_cyborg.attach.ledger.errors import InvalidArgument
from orionx_cyborg.attach.ledger.errors import InvalidTransition
from orionx_cyborg.attach.ledger.errors import LeaseExists
from orionx_cyborg.attach.ledger.errors import LeaseNotFound
from orionx_cyborg.attach.ledger.errors import LedgerError
from orionx_cyborg.attach.ledger.errors import LedgerUnavailable
from orionx_cyborg.attach.ledger.errors import MarkerNotFound
from orionx_cyborg.attach.ledger.errors import StaleLease
from orionx_cyborg.attach.ledger.ledger import ANY_PROJECT
from orionx_cyborg.attach.ledger.ledger import Clock
from orionx_cyborg.attach.ledger.ledger import Ledger
from orionx_cyborg.attach.ledger.ledger import utc_now
from orionx_cyborg.attach.ledger.records import GpuUsage
from orionx_cyborg.attach.ledger.records import HealthReport
from orionx_cyborg.attach.ledger.records import LeaseEvent
from orionx_cyborg.attach.ledger.records import LeaseFields
from orionx_cyborg.attach.ledger.records import LeaseRecord
from orionx_cyborg.attach.ledger.records import NewLease
from orionx_cyborg.attach.ledger.records import new_lease_id
from orionx_cyborg.attach.ledger.states import INITIAL_STATES
from orionx_cyborg.attach.ledger.states import PLACED_STATES
from orionx_cyborg.attach.ledger.states import TRANSITIONS
from orionx_cyborg.attach.ledger.states import LeaseState
from orionx_cyborg.attach.ledger.states import can_transition

__all__ = [
    'ANY_PROJECT',
    'INITIAL_STATES',
    'PLACED_STATES',
    'TRANSITIONS',
    'Clock',
    'GpuUsage',
    'HealthReport',
    'InvalidArgument',
    'InvalidTransition',
    'LeaseEvent',
    'LeaseExists',
    'LeaseFields',
    'LeaseNotFound',
    'LeaseRecord',
    'LeaseState',
    'Ledger',
    'LedgerError',
    'LedgerUnavailable',
    'MarkerNotFound',
    'NewLease',
    'StaleLease',
    'can_transition',
    'new_lease_id',
    'utc_now',
]
