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

"""Enforce the attach service's policy (:mod:`.policies`) with oslo.policy.

The service builds one :class:`Enforcer` from its configuration and hands
it to the API; nothing is built at import time. :func:`get_enforcer` is
the ``oslo.policy.enforcer`` entry point through which oslo.policy's
tools (``oslopolicy-policy-generator``, ``oslopolicy-checker``...) see
the defaults merged with an operator's policy file.
"""

from __future__ import annotations

from typing import Any

from oslo_config import cfg
from oslo_policy import opts as policy_opts
from oslo_policy import policy

from orionx_cyborg import exception
from orionx_cyborg.attach import policies
from orionx_cyborg.i18n import _

PROJECT = 'orionx-cyborg'
PROG = 'orionx-cyborg-attach'


class PolicyNotAuthorized(exception.OrionXException):
    """The caller may not do this (a 403)."""

    msg_fmt = _('Policy does not allow %(rule)s.')


def set_defaults(conf: cfg.ConfigOpts) -> None:
    """New defaults, scope checks on: the legacy fallback is opt-in."""
    policy_opts.set_defaults(conf, enforce_new_defaults=True)
    if 'enforce_scope' in conf.oslo_policy:
        # Older oslo.policy releases have this switch; newer ones always
        # check scopes.
        conf.set_default('enforce_scope', True, group='oslo_policy')


class Enforcer:
    """Authorizes callers against the rules in code and the policy file."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        set_defaults(conf)
        self._enforcer = policy.Enforcer(conf)
        self._enforcer.register_defaults(policies.list_rules())

    @property
    def oslo_enforcer(self) -> policy.Enforcer:
        return self._enforcer

    def load_rules(self) -> None:
        """Read the policy file now (raises on a bad one)."""
        self._enforcer.load_rules()

    def check_rules(self) -> None:
        """Whether the rules refer only to rules that exist.

        :raises PolicyError: a rule names an undefined rule or loops.
        """
        self._enforcer.check_rules(raise_on_violation=True)

    def authorize(
        self, context: Any, rule: str, target: dict[str, Any]
    ) -> bool:
        """Whether *context* may do *rule* on *target* (never raises).

        A token of a scope the rule does not accept (a domain-scoped one,
        say) is refused like a failed check.
        """
        try:
            return bool(
                self._enforcer.authorize(rule, target, context, do_raise=True)
            )
        except (policy.PolicyNotAuthorized, policy.InvalidScope):
            return False

    def require(self, context: Any, rule: str, target: dict[str, Any]) -> None:
        """:raises PolicyNotAuthorized: *context* may not do *rule*."""
        if not self.authorize(context, rule, target):
            raise PolicyNotAuthorized(rule=rule)


def get_enforcer() -> policy.Enforcer:
    """The ``oslo.policy.enforcer`` entry point (for oslo.policy's tools).

    The enforcer reads the service's default configuration files
    (``/etc/orionx-cyborg/orionx-cyborg-attach.conf``...) and so the
    policy file they name, as the service does.
    """
    conf = cfg.ConfigOpts()
    conf(
        [],
        project=PROJECT,
        prog=PROG,
        default_config_files=cfg.find_config_files(project=PROJECT, prog=PROG),
    )
    return Enforcer(conf).oslo_enforcer
