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

"""The one retry helper of the service clients.

What is retried: a Placement generation conflict
(``placement.concurrent_update``: re-read and write again), a 5xx
answer and a failed connection (the request never arrived). What is not:
a timeout (the request may have been applied, and the caller would wait
a second timeout), and any 4xx other than the conflict. Waits grow
exponentially from 50 ms to at most 1 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from oslo_log import log as logging

from orionx_cyborg.clients import errors

LOG = logging.getLogger(__name__)
T = TypeVar('T')

RETRIED: tuple[type[Exception], ...] = (
    errors.GenerationConflict,
    errors.ServerError,
    errors.ConnectFailed,
)


def backoff(attempt: int) -> float:
    """Seconds to wait after failed attempt *attempt* (from 0)."""
    return float(min(0.05 * (2**attempt), 1.0))


def call(
    function: Callable[[], T],
    retries: int,
    sleep: Callable[[float], None] = time.sleep,
    retried: tuple[type[Exception], ...] = RETRIED,
) -> T:
    """*function*'s result, calling it again up to *retries* times.

    *function* must redo the whole step (re-read a generation before it
    writes again).

    :raises: the last retried error once the retries are spent, and any
        other error at once.
    """
    for attempt in range(retries):
        try:
            return function()
        except retried as err:
            LOG.debug('Attempt %d failed (%s); retrying', attempt + 1, err)
            sleep(backoff(attempt))
    return function()
