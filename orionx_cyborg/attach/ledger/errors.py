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

"""Errors of the lease ledger.

All derive from :class:`LedgerError`, itself an
:class:`~orionx_cyborg.exception.OrionXException`; database driver errors
never escape the ledger, they become :class:`LedgerUnavailable`::

    OrionXException
    └── LedgerError
        ├── LeaseNotFound
        ├── LeaseExists
        ├── StaleLease
        ├── InvalidTransition
        ├── InvalidArgument
        │   └── MarkerNotFound
        └── LedgerUnavailable
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orionx_cyborg import exception
from orionx_cyborg.i18n import _

if TYPE_CHECKING:
    from orionx_cyborg.attach.ledger.records import LeaseRecord


class LedgerError(exception.OrionXException):
    msg_fmt = _("Lease ledger error: %(reason)s")


class LeaseNotFound(LedgerError):
    msg_fmt = _("Lease %(lease)s is not in the ledger")


class LeaseExists(LedgerError):
    """A lease with this id or for this ARQ is already in the ledger.

    ``existing`` is the lease that holds the id or ARQ, when it could be
    read back.
    """

    msg_fmt = _("A lease for ARQ %(arq)s already exists (lease %(lease)s)")

    def __init__(
        self, *, arq: str, lease: str, existing: LeaseRecord | None = None
    ) -> None:
        super().__init__(arq=arq, lease=lease)
        self.existing = existing


class StaleLease(LedgerError):
    """The caller's version of the lease is not the current one.

    Someone else changed the lease since the caller read it; ``current``
    is the lease as it is now, so the caller can decide again without
    another read.
    """

    msg_fmt = _(
        "Lease %(lease)s changed: expected version %(expected)s, "
        "found %(actual)s"
    )

    def __init__(self, current: LeaseRecord, expected: int) -> None:
        super().__init__(
            lease=current.id, expected=expected, actual=current.version
        )
        self.current = current


class InvalidTransition(LedgerError):
    """The state machine does not allow this change of state.

    ``target`` is a state name, or ``deleted`` for :meth:`Ledger.delete`.
    """

    msg_fmt = _("Lease %(lease)s cannot go from %(source)s to %(target)s")

    def __init__(self, current: LeaseRecord, target: str) -> None:
        super().__init__(
            lease=current.id, source=current.state.value, target=target
        )
        self.current = current
        self.target = target


class InvalidArgument(LedgerError):
    msg_fmt = _("Invalid ledger request: %(reason)s")


class MarkerNotFound(InvalidArgument):
    msg_fmt = _("Marker lease %(marker)s is not in the ledger")


class LedgerUnavailable(LedgerError):
    msg_fmt = _("The lease ledger database failed: %(reason)s")
