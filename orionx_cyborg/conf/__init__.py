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

"""Configuration of orionx-cyborg, one module per option group.

Nothing is registered at import time: call :func:`register_opts` on the
``ConfigOpts`` you use (the Cyborg agent's global ``CONF``, or a private
one in tools and tests).
"""

from oslo_config import cfg

from orionx_cyborg.conf import gpu
from orionx_cyborg.conf import pool


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every orionx-cyborg option group on *conf* (idempotent)."""
    gpu.register_opts(conf)
    pool.register_opts(conf)
