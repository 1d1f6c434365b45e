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

"""What the console's views share: calls that a 403 turns into a message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from orionx_cyborg_dashboard import api


class Outcome:
    """The result of one call of the console: data, or why not."""

    def __init__(self) -> None:
        self.forbidden: list[str] = []
        self.errors: list[str] = []
        self.notes: list[str] = []

    def get(
        self,
        what: str,
        fn: Callable[..., Any],
        *args: Any,
        default: Any = None,
        optional: bool = False,
        **kwargs: Any,
    ) -> Any:
        """*fn*'s answer; *default* (noted) when refused or failed.

        :param optional: a refusal is a note, not a warning (data that
            only adds to the page, such as Placement's totals).
        """
        try:
            return fn(*args, **kwargs)
        except api.Forbidden:
            if optional:
                self.notes.append(
                    _('%(what)s: not shown, your token may not read it.')
                    % {'what': what}
                )
                return default
            self.forbidden.append(
                _(
                    'Your token does not allow you to see %(what)s (the '
                    'service\'s policy refused it).'
                )
                % {'what': what}
            )
        except api.NotFound:
            self.errors.append(_('Not found: %(what)s.') % {'what': what})
        except api.Unavailable as err:
            self.errors.append(
                _('Could not read %(what)s: %(error)s')
                % {'what': what, 'error': err}
            )
        return default

    def context(self) -> dict[str, Any]:
        return {
            'forbidden': self.forbidden,
            'errors': self.errors,
            'notes': self.notes,
        }
