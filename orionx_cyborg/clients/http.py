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

"""JSON requests through a keystoneauth adapter, errors converted.

keystoneauth and HTTP errors become :mod:`orionx_cyborg.clients.errors`
here; the adapter's session timeout bounds every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import Protocol

from keystoneauth1 import exceptions as ks_exceptions

from orionx_cyborg.clients import errors


class Tracker(Protocol):
    """Told of every request's start and end (health checks read it)."""

    def started(self, service: str) -> int: ...

    def finished(self, token: int, error: BaseException | None) -> None: ...


class JsonHttp:
    """Requests through an adapter, with errors converted."""

    def __init__(
        self,
        adapter: Any,
        service: str,
        microversion: str | None,
        tracker: Tracker | None = None,
        timeout: float | None = None,
    ):
        """:param microversion: sent with every request (None: none).
        :param timeout: seconds of every request; None leaves it to the
            adapter's session (its ``timeout`` option).
        """
        self._adapter = adapter
        self._service = service
        self._microversion = microversion
        self._tracker = tracker
        self._timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (200,),
    ) -> tuple[int, Any]:
        """Send a request; return (status, decoded JSON or None).

        :raises ConnectFailed: no connection.
        :raises TimedOut: no answer within the group's ``timeout``.
        :raises ServerError: a 5xx answer outside *accept*.
        :raises RequestFailed: any other status outside *accept* (the
            subclass of :data:`errors.BY_STATUS` for 400, 401, 403, 404).
        """
        if self._tracker is None:
            return self._request(method, path, body, params, accept)
        token = self._tracker.started(self._service)
        error: BaseException | None = None
        try:
            return self._request(method, path, body, params, accept)
        except BaseException as err:
            error = err
            raise
        finally:
            self._tracker.finished(token, error)

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (200,),
    ) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {'headers': {'Accept': 'application/json'}}
        if self._microversion is not None:
            kwargs['microversion'] = self._microversion
        if self._timeout is not None:
            kwargs['timeout'] = self._timeout
        if body is not None:
            kwargs['json'] = body
        if params:
            kwargs['params'] = dict(params)
        try:
            response = self._adapter.request(path, method, **kwargs)
        except ks_exceptions.ConnectTimeout as err:
            raise errors.TimedOut(service=self._service, reason=err) from err
        except ks_exceptions.ConnectFailure as err:
            raise errors.ConnectFailed(
                service=self._service, reason=err
            ) from err
        except ks_exceptions.ClientException as err:
            raise errors.ServiceUnavailable(
                service=self._service, reason=err
            ) from err
        status = int(response.status_code)
        if status in accept:
            return status, _json(response)
        if status >= 500:
            raise errors.ServerError(
                service=self._service,
                reason='%d on %s %s%s'
                % (status, method, path, _suffix(_error_text(response))),
            )
        failure = errors.BY_STATUS.get(status, errors.RequestFailed)
        raise failure(
            service=self._service,
            status=status,
            method=method,
            path=path,
            reason=_error_text(response),
            code=_error_code(_json(response)),
        )


def _json(response: Any) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _suffix(text: str) -> str:
    return ': %s' % text if text else ''


def _error_text(response: Any) -> str:
    data = _json(response)
    if isinstance(data, dict):
        errors = data.get('errors')
        if isinstance(errors, list) and errors:
            return '; '.join(str(e.get('detail', e)) for e in errors)
        error = data.get('error')
        if isinstance(error, dict) and error.get('message'):
            # The attach service's {"error": {"code", "title", "message"}}.
            return str(error['message'])
        for key in ('error_message', 'message', 'title'):
            if key in data:
                return str(data[key])
    return response.text[:200] if getattr(response, 'text', '') else ''


def _error_code(response_data: Any) -> str | None:
    if isinstance(response_data, dict):
        for error in response_data.get('errors', []):
            if isinstance(error, dict) and error.get('code'):
                return str(error['code'])
    return None
