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

"""``orionx-cyborg-status upgrade check``: is this deployment ready?

Run it (oslo.upgradecheck) with the attach service's configuration
before starting upgraded replicas. It exits 0 (success), 1 (a warning)
or 2 (a failure), and checks:

* the lease ledger's schema is at the head of this release's migrations;
* the policy file (if any) parses, names only rules that exist, and is
  not JSON;
* the coordination backend is as shared as the ledger: replicas on
  several hosts share a server database, so their leader lock must be
  shared too (not a file backend); a SQLite ledger cannot be shared by
  hosts at all.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from oslo_config import cfg
from oslo_upgradecheck import common_checks
from oslo_upgradecheck import upgradecheck

from orionx_cyborg import exception
from orionx_cyborg.attach import app as app_mod
from orionx_cyborg.attach import ledger as ledger_mod
from orionx_cyborg.attach.ledger import migration
from orionx_cyborg.i18n import _

PROJECT = 'orionx-cyborg'
PROG = 'orionx-cyborg-attach'

Result = upgradecheck.Result
Code = upgradecheck.Code

#: tooz backends that live on one host only.
LOCAL_COORDINATION = ('file', 'ipc', 'zake')


class Checks(upgradecheck.UpgradeCommands):
    """The attach service's upgrade checks."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    def _check_ledger_schema(self) -> Result:
        url = app_mod.database_url(self.conf)
        try:
            with ledger_mod.Ledger.from_url(url) as ledger:
                current = ledger.current_revision()
        except ledger_mod.LedgerError as err:
            return Result(
                Code.FAILURE, _('The lease ledger cannot be read: %s') % err
            )
        head = migration.head_revision()
        if current != head:
            return Result(
                Code.FAILURE,
                _(
                    'The lease ledger is at revision %(current)s, this '
                    'release needs %(head)s: run '
                    '"orionx-cyborg-attach-dbsync upgrade".'
                )
                % {'current': current or 'none (empty)', 'head': head},
            )
        return Result(Code.SUCCESS)

    def _check_policy_file(self) -> Result:
        try:
            enforcer = app_mod.load_policy(self.conf)
        except exception.ConfigurationError as err:
            return Result(Code.FAILURE, str(err))
        oslo = enforcer.oslo_enforcer
        unparsable = sorted(
            name
            for name, rule in oslo.file_rules.items()
            if str(rule.check) == '!' and rule.check_str.strip() != '!'
        )
        if unparsable:
            return Result(
                Code.FAILURE,
                _('The policy file has rules that do not parse: %s')
                % ', '.join(unparsable),
            )
        unknown = sorted(set(oslo.file_rules) - set(oslo.registered_rules))
        if unknown:
            return Result(
                Code.WARNING,
                _('The policy file names rules the service does not have: %s')
                % ', '.join(unknown),
            )
        return Result(Code.SUCCESS)

    def _check_coordination(self) -> Result:
        shared_ledger = not app_mod.database_url(self.conf).startswith(
            'sqlite'
        )
        url = self.conf.orionx_attach.coordination_url or 'file://'
        shared_lock = url.split(':', 1)[0] not in LOCAL_COORDINATION
        if shared_ledger and not shared_lock:
            return Result(
                Code.WARNING,
                _(
                    'The ledger is a server database that replicas on '
                    'several hosts may share, but [orionx_attach] '
                    'coordination_url (%s) is local to one host: replicas '
                    'on different hosts would run reconcile passes at the '
                    'same time. Set it to etcd3+http://, redis:// or '
                    'another shared tooz backend (or run one host).'
                )
                % url.split('://', 1)[0],
            )
        if shared_lock and not shared_ledger:
            return Result(
                Code.WARNING,
                _(
                    'The coordination backend is shared, but the ledger is '
                    'SQLite in a local file, which replicas on other hosts '
                    'cannot share: set [database] connection to MySQL or '
                    'PostgreSQL.'
                ),
            )
        return Result(Code.SUCCESS)

    def _check_policy_json(self) -> Result:
        result: Result = common_checks.check_policy_json(self, self.conf)
        return result

    _upgrade_checks = (
        (_('Lease ledger schema'), _check_ledger_schema),
        (_('Policy file'), _check_policy_file),
        (_('Policy file JSON to YAML migration'), _check_policy_json),
        (_('Coordination backend'), _check_coordination),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``orionx-cyborg-status`` (``upgrade check``)."""
    conf = cfg.ConfigOpts()
    app_mod.register_opts(conf)
    code: int = upgradecheck.main(
        conf,
        project=PROJECT,
        upgrade_command=Checks(conf),
        argv=list(sys.argv[1:] if argv is None else argv),
        default_config_files=cfg.find_config_files(project=PROJECT, prog=PROG),
    )
    return code
