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

"""Checks on what callers hand to the ledger, before any SQL runs.

Every backend then behaves the same: SQLite would store a too-long string
that PostgreSQL refuses, and both would refuse a lease that is placed but
names no GPU only through a less helpful error, or not at all.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import uuid
from collections.abc import Mapping
from typing import Any

from oslo_utils import strutils

from orionx_cyborg.attach.ledger import errors
from orionx_cyborg.attach.ledger import models
from orionx_cyborg.attach.ledger.records import LeaseFields
from orionx_cyborg.attach.ledger.records import NewLease
from orionx_cyborg.attach.ledger.states import INITIAL_STATES
from orionx_cyborg.attach.ledger.states import PLACED_STATES
from orionx_cyborg.attach.ledger.states import UNPLACED_STATES
from orionx_cyborg.attach.ledger.states import LeaseState

#: Event details are an audit note, not a payload store.
MAX_DETAIL_LENGTH = 4096

#: Fields that must be set while a lease is placed (claiming, active,
#: moving): the allocation is written on these two RPs of this GPU.
PLACEMENT_FIELDS = (
    'gpu_host',
    'gpu_uuid',
    'memory_rp_uuid',
    'compute_rp_uuid',
)

#: Fields that only make sense while placed; cleared on going pending.
GPU_FIELDS = PLACEMENT_FIELDS + ('gpu_pci_address', 'placed_at', 'runtime')

_UUID_FIELDS = frozenset(
    {'id', 'arq_uuid', 'instance_uuid', 'memory_rp_uuid', 'compute_rp_uuid'}
)
_SIZE_FIELDS = frozenset({'gmem_mib', 'compute_pct'})
_TIME_FIELDS = frozenset({'placed_at'})
_REQUIRED_TEXT = frozenset(
    {'id', 'arq_uuid', 'instance_uuid', 'project_id', 'vm_host', 'pool'}
)


def canonical_uuid(value: str) -> str | None:
    """*value* in canonical form, or None if it is not a UUID."""
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def new_lease(lease: NewLease) -> NewLease:
    """*lease* checked, with its UUIDs in canonical form."""
    values = {
        field.name: getattr(lease, field.name)
        for field in dataclasses.fields(lease)
    }
    try:
        values['state'] = LeaseState(values['state'])
    except ValueError:
        raise errors.InvalidArgument(
            reason='unknown state %r' % (values['state'],)
        ) from None
    if values['state'] not in INITIAL_STATES:
        raise errors.InvalidArgument(
            reason='a lease cannot be created %s' % values['state']
        )
    values.update(_checked(values))
    check_placement(values['state'], values)
    check_unplaced(values['state'], values)
    return NewLease(**values)


def fields(changes: LeaseFields) -> dict[str, Any]:
    """The changes of a transition, checked; unknown names are refused."""
    unknown = set(changes) - set(LeaseFields.__annotations__)
    if unknown:
        raise errors.InvalidArgument(
            reason='these lease fields cannot be changed: %s'
            % ', '.join(sorted(unknown))
        )
    return _checked(dict(changes))


def check_placement(state: LeaseState, values: Mapping[str, Any]) -> None:
    """Refuse a placed lease that does not say where it is placed."""
    if state not in PLACED_STATES:
        return
    missing = [name for name in PLACEMENT_FIELDS if values.get(name) is None]
    if missing:
        raise errors.InvalidArgument(
            reason='a %s lease needs %s' % (state, ', '.join(missing))
        )


def check_unplaced(state: LeaseState, values: Mapping[str, Any]) -> None:
    """Refuse a waiting lease that names a GPU: it has none yet."""
    if state not in UNPLACED_STATES:
        return
    named = [name for name in GPU_FIELDS if values.get(name) is not None]
    if named:
        raise errors.InvalidArgument(
            reason='a %s lease has no GPU, but %s given'
            % (state, ', '.join(named))
        )


def event_name(event: str) -> str:
    if not isinstance(event, str) or not event:
        raise errors.InvalidArgument(reason='an event needs a name')
    if len(event) > models.EVENT_LENGTH:
        raise errors.InvalidArgument(
            reason='event name %r is longer than %d characters'
            % (event, models.EVENT_LENGTH)
        )
    return event


def encode_detail(detail: Mapping[str, Any] | str | None) -> str | None:
    """The text stored for an event's detail.

    Mappings become JSON. Values under well-known secret names (password,
    token, secret, ...) are masked, as a last line of defence: callers must
    not pass secrets at all.
    """
    if detail is None:
        return None
    if isinstance(detail, str):
        text: str = strutils.mask_password(detail)
    elif isinstance(detail, Mapping):
        masked = strutils.mask_dict_password(dict(detail))
        text = json.dumps(
            masked, sort_keys=True, default=str, separators=(',', ':')
        )
    else:
        raise errors.InvalidArgument(
            reason='an event detail is a mapping or a string, not %s'
            % type(detail).__name__
        )
    if len(text) > MAX_DETAIL_LENGTH:
        raise errors.InvalidArgument(
            reason='an event detail is longer than %d characters'
            % MAX_DETAIL_LENGTH
        )
    return text


def limit(value: int | None) -> int | None:
    if value is not None and (not isinstance(value, int) or value < 0):
        raise errors.InvalidArgument(
            reason='limit must be a non-negative integer, not %r' % (value,)
        )
    return value


def aware(value: datetime.datetime, what: str) -> datetime.datetime:
    """*value* in UTC; naive datetimes are refused, not guessed."""
    if not isinstance(value, datetime.datetime):
        raise errors.InvalidArgument(
            reason='%s must be a datetime, not %r' % (what, value)
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise errors.InvalidArgument(
            reason='%s must be timezone-aware, not %r' % (what, value)
        )
    return value.astimezone(datetime.UTC)


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    checked = {}
    for name, value in values.items():
        if name == 'state':
            continue
        checked[name] = _checked_value(name, value)
    return checked


def _checked_value(name: str, value: Any) -> Any:
    if value is None:
        if name in _REQUIRED_TEXT or name in _SIZE_FIELDS:
            raise errors.InvalidArgument(reason='%s is required' % name)
        return None
    if name in _SIZE_FIELDS:
        return _size(name, value)
    if name in _TIME_FIELDS:
        return aware(value, name)
    if not isinstance(value, str) or not value:
        raise errors.InvalidArgument(
            reason='%s must be a non-empty string, not %r' % (name, value)
        )
    if name in _UUID_FIELDS:
        canonical = canonical_uuid(value)
        if canonical is None:
            raise errors.InvalidArgument(
                reason='%s must be a UUID, not %r' % (name, value)
            )
        return canonical
    _check_length(name, value)
    return value


def _size(name: str, value: Any) -> int:
    # bool is an int; True MiB is a bug in the caller.
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise errors.InvalidArgument(
            reason='%s must be a positive integer, not %r' % (name, value)
        )
    return value


def _check_length(name: str, value: str) -> None:
    column_type = models.LeaseRow.__table__.c[name].type
    length = getattr(column_type, 'length', None)
    if length is not None and len(value) > length:
        raise errors.InvalidArgument(
            reason='%s is longer than %d characters' % (name, length)
        )
