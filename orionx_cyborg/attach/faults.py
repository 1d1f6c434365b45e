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

"""Crash points of the attach service: a hook for fault tests only.

Every lease operation writes the ledger, then Placement, then the ledger
again, so that a crash between any two steps leaves a state the next
reconcile pass finishes (see :mod:`orionx_cyborg.attach.service`). A
random SIGKILL rarely lands exactly between two steps, so each boundary
calls :func:`crash_point` with its name, and the functional fault tests
make the process die there.

**Test hook.** :func:`crash_point` does nothing unless
``$ORIONX_ATTACH_CRASH_AT`` names that point: ``<name>`` crashes the
first time the process reaches it, ``<name>:<n>`` the *n*-th time. The
process then leaves at once with ``os._exit(EXIT_STATUS)``, without
cleanup, like a SIGKILL at that step. Never set it in production.
"""

from __future__ import annotations

import os
import threading

#: The variable that arms one crash point (``<name>[:<n>]``).
ENVIRONMENT = 'ORIONX_ATTACH_CRASH_AT'
#: The exit status of a process that crashed at a crash point.
EXIT_STATUS = 86

CLAIM_BEFORE_PLACEMENT = 'claim.before-placement'
"""The lease is ``claiming`` in the ledger; its allocation is not
written yet."""
CLAIM_AFTER_PLACEMENT = 'claim.after-placement'
"""The allocation is written; the lease is still ``claiming``."""
RELEASE_BEFORE_PLACEMENT = 'release.before-placement'
"""The lease is ``releasing``; its allocation still exists."""
RELEASE_AFTER_PLACEMENT = 'release.after-placement'
"""The allocation is deleted; the lease row still exists."""
MOVE_BEFORE_PLACEMENT = 'move.before-placement'
"""The lease is ``moving`` with its target GPU recorded; the allocation
is still on the source GPU."""
MOVE_AFTER_PLACEMENT = 'move.after-placement'
"""The allocation is on the target GPU; the lease is still ``moving``."""
RESTORE_AFTER_PLACEMENT = 'reconcile.restore.after-placement'
"""The reconciler wrote a lease's missing allocation again; the repair
is not recorded yet."""
ORPHAN_AFTER_PLACEMENT = 'reconcile.orphan.after-placement'
"""The reconciler deleted an allocation no lease owns; the release is
not recorded yet."""

POINTS = (
    CLAIM_BEFORE_PLACEMENT,
    CLAIM_AFTER_PLACEMENT,
    RELEASE_BEFORE_PLACEMENT,
    RELEASE_AFTER_PLACEMENT,
    MOVE_BEFORE_PLACEMENT,
    MOVE_AFTER_PLACEMENT,
    RESTORE_AFTER_PLACEMENT,
    ORPHAN_AFTER_PLACEMENT,
)

_lock = threading.Lock()
_reached: dict[str, int] = {}


def crash_point(name: str) -> None:
    """End the process here if ``$ORIONX_ATTACH_CRASH_AT`` says so."""
    armed = os.environ.get(ENVIRONMENT)
    if not armed:
        return
    target, _, nth = armed.partition(':')
    if target != name:
        return
    with _lock:
        count = _reached[name] = _reached.get(name, 0) + 1
    if count != (int(nth) if nth.isdigit() else 1):
        return
    # Straight to the file descriptor: nothing buffered survives _exit.
    os.write(
        2, ('Crash point %s reached (%d): exiting\n' % (name, count)).encode()
    )
    os._exit(EXIT_STATUS)
