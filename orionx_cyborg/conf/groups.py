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

"""Registering an option group on a given ``ConfigOpts``."""

from oslo_config import cfg


def register_group(
    conf: cfg.ConfigOpts, group: cfg.OptGroup, opts: list[cfg.Opt]
) -> None:
    """Register *opts* in a copy of *group* on *conf* (idempotent).

    A fresh group object per ConfigOpts: oslo.config copies a registered
    group shallowly, so sharing one module-level group would share
    overrides between configurations (the sandbox runs one per simulated
    host).
    """
    fresh = cfg.OptGroup(group.name, title=group.title, help=group.help)
    conf.register_group(fresh)
    conf.register_opts(opts, group=fresh)
