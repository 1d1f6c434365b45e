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

"""Process entry point: the real Cyborg API, conductor and agents.

``python -m orionx_cyborg.sandbox.cyborg_server STATE_DIR`` runs Cyborg's
API, its conductor and one agent per sandbox host in one process, over
oslo.messaging's in-memory ``fake://`` transport (see
:mod:`orionx_cyborg.sandbox.cyborg_aio`), and prints ``READY`` once every
host has reported its devices and the API accepts requests.
"""

from __future__ import annotations

import importlib
import sys
import time


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print('usage: cyborg_server STATE_DIR', file=sys.stderr)
        return 2
    # Importing cyborg.cmd selects oslo.service's threading backend. Any
    # Cyborg service module imported before it would lock in the default
    # backend, so it comes first, and the all-in-one module after it.
    importlib.import_module('cyborg.cmd')
    from orionx_cyborg.sandbox import cyborg_aio

    return cyborg_aio.run(args[0], started)


if __name__ == '__main__':
    sys.exit(main())
