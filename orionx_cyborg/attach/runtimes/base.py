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

"""Runtime plugins: render a remoting runtime's client settings.

A runtime turns an :class:`~orionx_cyborg.attach.binding.InstanceBinding`
into what its client inside the guest reads (environment variables, a
configuration file, a cloud-init snippet). Plugins are found in the
stevedore namespace ``orionx_cyborg.runtimes``; the default is ``orionx``.
Another remoting runtime plugs in without touching the service.

Each runtime serves the GPUs of some PCI vendors (its ``vendors`` option,
defaulting to :attr:`Runtime.VENDORS`). The service runs a
:class:`RuntimeSet`: ``[orionx_attach] runtime`` and then
``additional_runtimes``; a lease goes only to a GPU that one of them
serves, and the first that serves the GPU's vendor (or the one the
device profile names) renders its client settings.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any
from typing import ClassVar

import stevedore
from oslo_config import cfg
from oslo_config import types

from orionx_cyborg import exception
from orionx_cyborg.attach import binding
from orionx_cyborg.i18n import _

NAMESPACE = 'orionx_cyborg.runtimes'


class RuntimeNotFound(exception.ConfigurationError):
    msg_fmt = _(
        'No runtime plugin %(name)s in namespace %(namespace)s '
        '(installed: %(installed)s). Check [orionx_attach] runtime and '
        'additional_runtimes.'
    )


class UnknownRuntime(exception.OrionXException):
    msg_fmt = _(
        'Runtime %(name)s is not configured (configured: %(configured)s).'
    )


def vendors_opt(default: Iterable[str]) -> cfg.Opt:
    """The ``vendors`` option every runtime plugin offers."""
    return cfg.ListOpt(
        'vendors',
        default=sorted(default),
        item_type=types.String(regex=r'^[0-9a-fA-F]{4}$'),
        help=_(
            'PCI vendor ids (4 hex digits) of the pool GPUs this '
            "runtime's client and server can use: 10de NVIDIA, 1002 AMD, "
            '19e5 Huawei Ascend, 1ed5 Moore Threads. The attach service '
            'never places a lease this runtime serves on a GPU of another '
            'vendor.'
        ),
    )


@dataclasses.dataclass(frozen=True)
class ClientSettings:
    """What a runtime's client needs, in the forms a guest can use."""

    environment: dict[str, str]
    files: dict[str, str]
    """Path in the guest -> file content."""
    cloud_init: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            'environment': dict(self.environment),
            'files': dict(self.files),
            'cloud_init': self.cloud_init,
        }


class Runtime(metaclass=abc.ABCMeta):
    """Base class of runtime plugins."""

    #: Options of the plugin, registered in group ``orionx_runtime_<name>``.
    CONFIG_OPTS: ClassVar[list[cfg.Opt]] = []
    #: Default of the ``vendors`` option: PCI vendor ids of the GPUs
    #: this runtime's client and server can use; leases are never placed
    #: on pool members of other vendors.
    VENDORS: ClassVar[frozenset[str]] = frozenset({'10de'})

    def __init__(self, conf: cfg.ConfigOpts, name: str) -> None:
        self.conf = conf
        self.name = name

    @property
    def options(self) -> Any:
        """This plugin's option group."""
        return getattr(self.conf, group_name(self.name))

    @property
    def vendors(self) -> frozenset[str]:
        """The PCI vendor ids this runtime serves, as configured."""
        try:
            configured = self.options.vendors
        except cfg.NoSuchOptError:
            return self.VENDORS
        return frozenset(v.lower() for v in configured)

    def serves(self, vendor: str) -> bool:
        """Whether this runtime can serve a GPU of PCI vendor *vendor*."""
        return vendor.lower() in self.vendors

    @abc.abstractmethod
    def render(self, instance: binding.InstanceBinding) -> ClientSettings:
        """Client settings for the active vGPUs of *instance*.

        :param instance: the instance's binding document.
        :returns: the settings; empty when no vGPU is active yet.
        """


class RuntimeSet:
    """The runtimes of one attach service, the default one first."""

    def __init__(self, runtimes: Sequence[Runtime]) -> None:
        if not runtimes:
            raise ValueError('a runtime set needs at least one runtime')
        names = [r.name for r in runtimes]
        if len(set(names)) != len(names):
            raise ValueError('runtime listed twice: %s' % ', '.join(names))
        self.runtimes = tuple(runtimes)

    @property
    def default(self) -> Runtime:
        return self.runtimes[0]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.runtimes)

    def get(self, name: str) -> Runtime:
        """:raises UnknownRuntime: if *name* is not configured."""
        for runtime in self.runtimes:
            if runtime.name == name:
                return runtime
        raise UnknownRuntime(name=name, configured=', '.join(self.names))

    def serving(self, vendor: str, name: str | None = None) -> Runtime | None:
        """The runtime that serves a GPU of *vendor*, or None.

        :param name: the runtime a device profile names; None: the first
            configured runtime that serves the vendor. A runtime that is
            not configured serves nothing.
        """
        candidates = [r for r in self.runtimes if name in (None, r.name)]
        for runtime in candidates:
            if runtime.serves(vendor):
                return runtime
        return None

    def serves(self, vendor: str, name: str | None = None) -> bool:
        """Whether a lease naming runtime *name* (or none) may be placed
        on a GPU of *vendor*.
        """
        return self.serving(vendor, name) is not None

    def vendors(self, name: str | None = None) -> frozenset[str]:
        """PCI vendors served by runtime *name*, or by any runtime."""
        if name is not None:
            return self.get(name).vendors
        return frozenset().union(*(r.vendors for r in self.runtimes))


def group_name(name: str) -> str:
    return 'orionx_runtime_%s' % name


def load(conf: cfg.ConfigOpts, name: str) -> Runtime:
    """Load runtime plugin *name* and register its options on *conf*.

    :raises RuntimeNotFound: if no such plugin is installed.
    """
    try:
        manager: Any = stevedore.DriverManager(
            namespace=NAMESPACE, name=name, invoke_on_load=False
        )
    except stevedore.exception.NoMatches as err:
        installed = stevedore.ExtensionManager(NAMESPACE).names()
        raise RuntimeNotFound(
            name=name,
            namespace=NAMESPACE,
            installed=', '.join(sorted(installed)) or 'none',
        ) from err
    plugin: type[Runtime] = manager.driver
    register_plugin_opts(conf, name, plugin)
    return plugin(conf, name)


def load_set(
    conf: cfg.ConfigOpts, name: str, additional: Iterable[str] = ()
) -> RuntimeSet:
    """Load runtime *name* and the *additional* ones, in that order.

    :raises RuntimeNotFound: if one is not installed.
    """
    names = [name] + [n for n in additional if n != name]
    return RuntimeSet([load(conf, n) for n in dict.fromkeys(names)])


def register_plugin_opts(
    conf: cfg.ConfigOpts, name: str, plugin: type[Runtime]
) -> None:
    group = cfg.OptGroup(
        group_name(name), title='Options of the %s runtime' % name
    )
    conf.register_group(group)
    conf.register_opts(plugin.CONFIG_OPTS, group=group)


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    """Options of every installed runtime plugin (for the sample config)."""
    manager: Any = stevedore.ExtensionManager(NAMESPACE)
    return [
        (group_name(ext.name), list(ext.plugin.CONFIG_OPTS))
        for ext in sorted(manager, key=lambda ext: ext.name)
    ]
