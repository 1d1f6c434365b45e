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

"""Options of the ``[database]`` group: the attach service's lease ledger.

The options are oslo.db's own (name, type, default and help), the subset
the ledger's engine uses: the connection URL, the pool and the connection
retries at start. ``connection`` also reads the deprecated
``[orionx_attach] database_connection`` of earlier releases.
"""

import copy

from oslo_config import cfg
from oslo_db import options as db_options

from orionx_cyborg.conf import groups
from orionx_cyborg.i18n import _

GROUP = cfg.OptGroup(
    'database',
    title=_('Lease ledger database options (oslo.db)'),
    help=_(
        'The SQL database of the attach service\'s lease ledger: SQLite '
        'for one replica, MySQL or PostgreSQL for several.'
    ),
)

#: The oslo.db options the ledger's engine uses.
USED = (
    'connection',
    'connection_recycle_time',
    'max_pool_size',
    'max_overflow',
    'pool_timeout',
    'max_retries',
    'retry_interval',
)

DEPRECATED_CONNECTION = cfg.DeprecatedOpt(
    'database_connection', group='orionx_attach'
)


def _opts() -> list[cfg.Opt]:
    by_name = {opt.name: opt for opt in db_options.database_opts}
    opts = [copy.deepcopy(by_name[name]) for name in USED]
    connection = opts[0]
    connection.deprecated_opts = [
        *connection.deprecated_opts,
        DEPRECATED_CONNECTION,
    ]
    connection.sample_default = (
        'mysql+pymysql://orionx:SECRET@db/orionx_attach'
    )
    connection.help = _(
        'SQLAlchemy URL of the lease ledger: SQLite for a single replica, '
        'mysql+pymysql:// or postgresql+psycopg:// for several. Defaults to '
        'attach.sqlite in [orionx_attach] state_path. Formerly '
        '[orionx_attach] database_connection (deprecated, still read).'
    )
    return opts


opts = _opts()


def register_opts(conf: cfg.ConfigOpts) -> None:
    groups.register_group(conf, GROUP, opts)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: opts}
