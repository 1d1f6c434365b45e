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

"""``orionx-cyborg-conductor``: Cyborg's conductor with strict admission."""

from __future__ import annotations

import sys
from collections.abc import Callable

from orionx_cyborg import exception
from orionx_cyborg.admission import ext_arq
from orionx_cyborg.conf import admission as admission_conf


def main(
    argv: list[str] | None = None, conductor: Callable[[], None] | None = None
) -> int:
    """``orionx-cyborg-conductor``: Cyborg's conductor with admission."""
    try:
        ext_arq.check_cyborg_version()
    except exception.UnsupportedCyborg as err:
        sys.stderr.write('orionx-cyborg-conductor: %s\n' % err)
        return 2
    # cyborg.cmd first: it selects oslo.service's threading backend.
    from cyborg.cmd import conductor as cyborg_conductor
    from cyborg.conf import CONF

    admission_conf.register_opts(CONF)
    ext_arq.install(CONF)
    if argv is not None:
        sys.argv = [sys.argv[0]] + list(argv)
    (conductor or cyborg_conductor.main)()
    return 0
