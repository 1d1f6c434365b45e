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

"""Lease states and the transitions the ledger allows between them.

::

                      +-----------------------------+
                      v                             |
    create --> pending --> claiming --> active --> moving
                  |           |           |  ^       |
                  |           +-> pending |  +-------+
                  |           |           |
                  +-----------+-----------+--------> releasing --> delete

    create --> awaiting-partner --> claiming, pending or releasing

* ``pending``: no GPU of the pool has room; waits in FIFO order (``seq``).
* ``awaiting-partner``: held back by the pairing hold
  (:class:`orionx_cyborg.allocator.PairingHold`) so as not to open an idle
  GPU alone while the pool is short of them; it is outside the FIFO queue.
  A later lease that complements it claims it (``claiming``, beside
  that lease), or the reconciler queues it (``pending``) when the pool
  has idle GPUs again or it has waited long enough.
* ``claiming``: a GPU is chosen; the Placement allocation is being written.
  If Placement says the slice does not fit, the lease goes back to
  ``pending`` and keeps its place in the queue.
* ``active``: the allocation is held.
* ``moving``: the allocation is being rewritten onto another GPU; back to
  ``active`` when that is done or abandoned.
* ``releasing``: the allocation is being deleted. Every state may go there
  (cleanup must always be possible) and it may be entered again by a retry;
  nothing leaves it but :meth:`Ledger.delete`.

A new lease starts ``pending``, ``awaiting-partner``, ``claiming`` or, when the reconciler adopts
an allocation that Placement already holds, ``active``. Only ``pending``,
``awaiting-partner`` and ``releasing`` leases may be deleted: the others
may hold an allocation, which must be released first.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class LeaseState(enum.StrEnum):
    PENDING = 'pending'
    CLAIMING = 'claiming'
    ACTIVE = 'active'
    MOVING = 'moving'
    RELEASING = 'releasing'
    AWAITING_PARTNER = 'awaiting-partner'


#: For each state, the states a lease in it may go to.
TRANSITIONS: Mapping[LeaseState, frozenset[LeaseState]] = {
    LeaseState.PENDING: frozenset({LeaseState.CLAIMING, LeaseState.RELEASING}),
    LeaseState.CLAIMING: frozenset(
        {LeaseState.ACTIVE, LeaseState.PENDING, LeaseState.RELEASING}
    ),
    LeaseState.ACTIVE: frozenset({LeaseState.MOVING, LeaseState.RELEASING}),
    LeaseState.MOVING: frozenset({LeaseState.ACTIVE, LeaseState.RELEASING}),
    LeaseState.RELEASING: frozenset({LeaseState.RELEASING}),
    LeaseState.AWAITING_PARTNER: frozenset(
        {LeaseState.CLAIMING, LeaseState.PENDING, LeaseState.RELEASING}
    ),
}

#: States a lease may be created in.
INITIAL_STATES = frozenset(
    {
        LeaseState.PENDING,
        LeaseState.AWAITING_PARTNER,
        LeaseState.CLAIMING,
        LeaseState.ACTIVE,
    }
)

#: States in which the lease has a GPU: its slice counts against it.
PLACED_STATES = frozenset(
    {LeaseState.CLAIMING, LeaseState.ACTIVE, LeaseState.MOVING}
)

#: States in which the lease holds no allocation the ledger knows of.
DELETABLE_STATES = frozenset(
    {LeaseState.PENDING, LeaseState.AWAITING_PARTNER, LeaseState.RELEASING}
)

#: States of a lease that waits for a GPU: it names none.
UNPLACED_STATES = frozenset({LeaseState.PENDING, LeaseState.AWAITING_PARTNER})


def can_transition(source: LeaseState, target: LeaseState) -> bool:
    """Whether a lease in *source* may go to *target*."""
    return target in TRANSITIONS[source]
