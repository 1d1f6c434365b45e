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

"""Errors of the service clients; each says which service and why."""

from __future__ import annotations

from orionx_cyborg import exception
from orionx_cyborg.i18n import _


class ServiceUnavailable(exception.OrionXException):
    """The service could not answer (connection, timeout or 5xx)."""

    msg_fmt = _('%(service)s is unavailable: %(reason)s')


class ConnectFailed(ServiceUnavailable):
    """No connection: the request never reached the service."""


class TimedOut(ServiceUnavailable):
    """No answer within the group's ``timeout``.

    Not retried: the request may have been applied, and a retry would
    make the caller wait a second timeout.
    """


class ServerError(ServiceUnavailable):
    """A 5xx answer."""


class GenerationConflict(exception.OrionXException):
    msg_fmt = _('Placement refused a stale generation for %(what)s.')


class NoRoom(exception.OrionXException):
    msg_fmt = _('Placement has no room for %(what)s: %(reason)s')


class RequestFailed(exception.OrionXException):
    msg_fmt = _(
        '%(service)s answered %(status)d to %(method)s %(path)s: %(reason)s'
    )


class BadRequest(RequestFailed):
    """A 400: the service refused the request as malformed."""


class Unauthorized(RequestFailed):
    """A 401: no valid token."""


class Forbidden(RequestFailed):
    """A 403: the service's policy refused the caller."""


class NotFound(RequestFailed):
    """A 404: no such resource (or one the caller may not see)."""


#: The subclass of :class:`RequestFailed` of an HTTP status.
BY_STATUS: dict[int, type[RequestFailed]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
}
