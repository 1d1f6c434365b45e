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

"""Options of strict admission, in the conductor's cyborg.conf."""

from __future__ import annotations

from oslo_config import cfg

from orionx_cyborg.conf import auth
from orionx_cyborg.i18n import _

GROUP = auth.ATTACH.name

opts = [
    cfg.BoolOpt(
        'fail_open',
        default=False,
        help=_(
            'When the attach service cannot be reached, let the bind go '
            'on (the lease is then made by the reconciler, perhaps as '
            'pending) instead of failing it.'
        ),
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(
        cfg.OptGroup(
            GROUP,
            title=_('Strict admission of pooled vGPUs'),
            help=_('How the conductor reaches orionx-cyborg-attach.'),
        )
    )
    conf.register_opts(opts, group=GROUP)
    auth.register_auth_opts(conf, auth.ATTACH)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, auth.add_auth_opts(list(opts), auth.ATTACH))]
