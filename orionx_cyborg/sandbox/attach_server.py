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

"""Process entry point: ``orionx-cyborg-attach`` beside the sandbox.

``python -m orionx_cyborg.sandbox.attach_server STATE_DIR`` does what an
operator's unit would: ``orionx-cyborg-attach-dbsync upgrade``, then
``orionx-cyborg-attach``, both with the generated ``attach/attach.conf``
(no-auth API on the manifest's port, the SQLite ledger in the state
directory unless the configuration names another database). The
service prints no ``READY`` line of its own: the orchestrator waits until
``GET /healthz`` answers 200, which also proves the ledger is readable.
"""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Callable

from orionx_cyborg.sandbox import layout
from orionx_cyborg.sandbox import lifecycle


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print('usage: attach_server STATE_DIR', file=sys.stderr)
        return 2
    conf = str(layout.StateLayout(args[0]).attach_conf)
    lifecycle.exit_with_parent()
    # The real commands, loaded as their console scripts are.
    status = console_script('orionx-cyborg-attach-dbsync')(
        ['--config-file', conf, 'upgrade']
    )
    if status:
        return status
    return console_script('orionx-cyborg-attach')(['--config-file', conf])


def console_script(name: str) -> Callable[[list[str]], int]:
    """The function console script *name* of this package runs."""
    (entry_point,) = importlib.metadata.entry_points(
        group='console_scripts', name=name
    )
    function: Callable[[list[str]], int] = entry_point.load()
    return function


if __name__ == '__main__':
    sys.exit(main())
