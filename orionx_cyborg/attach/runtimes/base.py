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
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any
from typing import ClassVar

import stevedore
from oslo_config import cfg

from orionx_cyborg import exception
from orionx_cyborg.attach import binding
from orionx_cyborg.i18n import _

NAMESPACE = 'orionx_cyborg.runtimes'


class RuntimeNotFound(exception.ConfigurationError):
    msg_fmt = _(
        'No runtime plugin %(name)s in namespace %(namespace)s '
        '(installed: %(installed)s). Check [orionx_attach] runtime.'
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
    #: PCI vendor ids of the GPUs this runtime's client and server can
    #: use; leases are never placed on pool members of other vendors.
    VENDORS: ClassVar[frozenset[str]] = frozenset({'10de'})

    def __init__(self, conf: cfg.ConfigOpts, name: str) -> None:
        self.conf = conf
        self.name = name

    @property
    def options(self) -> Any:
        """This plugin's option group."""
        return getattr(self.conf, group_name(self.name))

    @abc.abstractmethod
    def render(self, instance: binding.InstanceBinding) -> ClientSettings:
        """Client settings for the active vGPUs of *instance*.

        :param instance: the instance's binding document.
        :returns: the settings; empty when no vGPU is active yet.
        """


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
