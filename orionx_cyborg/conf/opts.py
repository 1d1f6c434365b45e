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

"""Entry point of oslo-config-generator for the orionx_cyborg namespace."""

from oslo_config import cfg

from orionx_cyborg.conf import attach
from orionx_cyborg.conf import auth
from orionx_cyborg.conf import database
from orionx_cyborg.conf import gpu
from orionx_cyborg.conf import pool

# NOTE: keep this list in alphabetical order by group.
_opts = [
    (gpu.GROUP, gpu.opts),
    (pool.GROUP, pool.opts),
]


def list_opts() -> list[tuple[cfg.OptGroup, list[cfg.Opt]]]:
    """Return the option groups of orionx-cyborg for the sample config."""
    return [(group, list(group_opts)) for group, group_opts in _opts]


def list_attach_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """The options of orionx-cyborg-attach, for its sample config.

    The installed runtime plugins list theirs under their own namespace,
    ``orionx_cyborg.attach.runtimes``.
    """
    groups: list[tuple[str, list[cfg.Opt]]] = [
        (attach.GROUP.name, list(attach.opts)),
        (database.GROUP.name, list(database.opts)),
    ]
    groups += sorted(auth.list_opts().items())
    return groups
