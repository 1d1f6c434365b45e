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

"""Exceptions of orionx-cyborg.

:class:`OrionXException` is the base of the errors the driver, the attach
service, strict admission, profiles and the operator commands raise; its
subclasses declare a ``msg_fmt`` filled from keyword arguments. Errors of
third-party libraries (NVML, sysfs, oslo.config, keystoneauth) are
converted where they enter those parts. The shared ones are here::

    OrionXException
    ├── ConfigurationError
    │   ├── InvalidOption
    │   └── UnsupportedCyborg
    ├── AcceleratorLibraryUnavailable
    ├── NvmlError
    │   └── NvmlUnavailable (also an AcceleratorLibraryUnavailable)
    ├── SysfsError
    ├── StateError
    └── AttachServiceRefused

Each part declares its own subclasses beside its code (the lease
ledger's in :mod:`orionx_cyborg.attach.ledger.errors`, the service
clients' in :mod:`orionx_cyborg.clients.errors`, ...). Two
families do not derive from it: the allocator, standard library only,
raises :class:`orionx_cyborg.allocator.AllocatorError` (also a
``ValueError`` or ``KeyError``) for inputs that break its models, and
:class:`orionx_cyborg.sizing.InvalidSize` is a ``ValueError`` the
attach service turns into a 400. The sandbox, a test tool, raises its
own.
"""

from typing import Any

from orionx_cyborg.i18n import _


class OrionXException(Exception):
    """Base of every orionx-cyborg error.

    Subclasses set ``msg_fmt``; the keyword arguments given to the
    constructor fill it and stay available on the instance as ``kwargs``.
    """

    msg_fmt: str = _("An unknown orionx-cyborg error occurred.")

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError, ValueError):
                # A wrong format string must never hide the original error.
                message = '%s (%s)' % (self.msg_fmt, kwargs)
        self.message = message
        super().__init__(message)


class ConfigurationError(OrionXException):
    msg_fmt = _("Invalid orionx-cyborg configuration: %(reason)s")


class InvalidOption(ConfigurationError):
    msg_fmt = _(
        "Invalid value %(value)r for option [%(group)s] %(option)s: "
        "%(reason)s. %(fix)s"
    )


class NvmlError(OrionXException):
    msg_fmt = _("NVML call %(call)s failed: %(error)s")


class AcceleratorLibraryUnavailable(OrionXException):
    """A vendor's management library cannot be used now.

    ``missing=True`` among the arguments says the library (or its Python
    binding) is not installed: normal on a host without that vendor.
    """

    msg_fmt = _("%(library)s is not usable on this host (%(error)s). %(hint)s")

    @property
    def missing(self) -> bool:
        return bool(self.kwargs.get('missing'))


class NvmlUnavailable(NvmlError, AcceleratorLibraryUnavailable):
    msg_fmt = _("NVML is not usable on this host (%(error)s). %(hint)s")


class SysfsError(OrionXException):
    msg_fmt = _("Cannot read %(path)s: %(error)s")


class StateError(OrionXException):
    msg_fmt = _("Driver state file %(path)s is unusable: %(error)s")


class AttachServiceRefused(OrionXException):
    """Strict admission: the attach service placed no lease for an ARQ."""

    msg_fmt = _('The attach service refused ARQ %(arq)s: %(reason)s')


class UnsupportedCyborg(ConfigurationError):
    """Strict admission hooks into a Cyborg release it was not tested with."""

    msg_fmt = _(
        'Strict admission hooks into Cyborg internals and supports '
        'openstack-cyborg %(supported)s; this host has %(found)s. Run the '
        'stock cyborg-conductor (leases are then made after the bind).'
    )
