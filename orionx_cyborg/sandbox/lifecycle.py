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

"""How a sandbox service process ends when the sandbox is not kept.

A sandbox started for tests (not ``up --keep``) sets
``ORIONX_SANDBOX_PARENT_PID`` for its services; each then watches its
parent and exits when the parent is gone, so a test run that is killed
outright still leaves no service behind. A kept sandbox does not set it:
its services outlive the command that started them until ``down``.
"""

from __future__ import annotations

import os
import threading
import time

PARENT_ENV = 'ORIONX_SANDBOX_PARENT_PID'
POLL_INTERVAL = 0.5


def exit_with_parent(environ: dict[str, str] | None = None) -> bool:
    """Start the watch if asked to; True if it was started."""
    value = (os.environ if environ is None else environ).get(PARENT_ENV)
    if not value:
        return False
    parent = int(value)
    thread = threading.Thread(
        target=_watch, args=(parent,), name='watch-parent', daemon=True
    )
    thread.start()
    return True


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_INTERVAL)
    # The orchestrator is gone and nobody will stop this process: leave at
    # once, without waiting for request threads.
    os._exit(0)
