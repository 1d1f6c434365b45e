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

"""``orionx_gpu_driver``: the Cyborg accelerator driver of orionx-cyborg.

Cyborg's agent builds it through stevedore with no arguments and calls
:meth:`OrionXGPUDriver.discover` at start-up and about every 60 seconds.
It reports each NVIDIA GPU of the host in the mode its configuration
gives (whole GPU, NVIDIA vGPU types, or pool member) plus the host's
pooled-vGPU entitlement. It never raises from ``discover()``: one
driver's exception would abort the report of every driver of the agent.
"""

from __future__ import annotations

from typing import Any

from cyborg.accelerator.drivers import driver as cyborg_driver
from oslo_config import cfg
from oslo_log import log as logging

from orionx_cyborg import exception
from orionx_cyborg import resources
from orionx_cyborg.accelerator import discovery
from orionx_cyborg.accelerator import objects
from orionx_cyborg.accelerator import reconcile
from orionx_cyborg.accelerator import settings as settings_mod
from orionx_cyborg.accelerator import spec
from orionx_cyborg.accelerator import state as state_mod
from orionx_cyborg.accelerator import usage as usage_mod
from orionx_cyborg.gpu import backends
from orionx_cyborg.gpu import sysfs

LOG = logging.getLogger(__name__)


class OrionXGPUDriver(cyborg_driver.GenericDriver):
    """Reports NVIDIA GPUs to Cyborg as whole GPUs, vGPUs or pool members."""

    def __init__(
        self,
        conf: cfg.ConfigOpts | None = None,
        host: str | None = None,
        backend: backends.GpuBackend | None = None,
        sysfs_reader: sysfs.SysfsReader | None = None,
        store: state_mod.StateStore | None = None,
        usage: reconcile.UsageLookup | None = None,
    ) -> None:
        """Load and check the configuration; talk to no hardware yet.

        :param conf: the configuration; Cyborg's global ``CONF`` when None
            (how the agent builds the driver).
        :param host: the host name in deployable names; ``[DEFAULT] host``
            of *conf* when None.
        :raises ConfigurationError: a bad option, named with its fix; the
            agent then refuses to load the driver.
        """
        if conf is None:
            from cyborg.conf import CONF

            conf = CONF
        try:
            self.settings = settings_mod.register_and_load(
                conf, state_path=_optional(conf, 'state_path')
            )
        except exception.ConfigurationError as err:
            LOG.error('orionx_gpu_driver cannot start: %s', err)
            raise
        self.host = host or conf.host
        self._reporter = discovery.build_reporter(
            self.host,
            self.settings,
            usage=usage or usage_mod.PlacementUsage(),
            backend=backend,
            sysfs_reader=sysfs_reader,
            store=store,
        )
        self._last_devices: tuple[spec.DeviceSpec, ...] = ()
        self._logged_warnings: set[str] = set()
        self._last_result: discovery.DiscoveryResult | None = None

    def discover(self) -> list[Any]:
        """Cyborg driver devices for this host; never raises."""
        try:
            result = self._reporter.run()
            self._log(result)
            devices = objects.to_driver_devices(list(result.report.devices))
        except Exception:
            LOG.exception(
                'orionx_gpu_driver failed to discover the GPUs of %s; '
                'sending the last report again, frozen as stubs.',
                self.host,
            )
            return self._frozen_last_report()
        self._last_devices = result.report.devices
        self._last_result = result
        return devices

    def update(self, control_path: Any, image_path: Any) -> bool:
        """GPUs have no firmware update through Cyborg."""
        LOG.warning('orionx_gpu_driver does not update GPU firmware.')
        return False

    def get_stats(self) -> dict[str, Any]:
        """A summary of the last discovery (nothing in Cyborg calls this)."""
        result = self._last_result
        if result is None:
            return {}
        report = result.report
        return {
            'host': self.host,
            'devices': len(report.devices),
            'deployables': sum(1 for _ in report.deployables()),
            'unhealthy': sum(
                1
                for d in report.deployables()
                if resources.TRAIT_UNHEALTHY in d.trait_names
            ),
            'nvml_failure': result.failure,
            'warnings': list(report.warnings),
        }

    def _frozen_last_report(self) -> list[Any]:
        try:
            return objects.to_driver_devices(
                [
                    reconcile.as_stub(d) if d.pci_address else d
                    for d in self._last_devices
                ]
            )
        except Exception:
            LOG.exception('orionx_gpu_driver cannot rebuild its report.')
            return []

    def _log(self, result: discovery.DiscoveryResult) -> None:
        # Warnings repeat every cycle while their cause lasts: log each once
        # at its level, then at debug, so the agent log stays readable.
        current = set(result.report.warnings)
        for warning in result.report.warnings:
            if warning in self._logged_warnings:
                LOG.debug('%s', warning)
            elif warning == result.failure:
                LOG.error('orionx_gpu_driver: %s', warning)
            else:
                LOG.warning('orionx_gpu_driver: %s', warning)
        resolved = self._logged_warnings - current
        for warning in resolved:
            LOG.info('orionx_gpu_driver: resolved: %s', warning)
        self._logged_warnings = current
        LOG.debug(
            'orionx_gpu_driver reports %d devices for %s',
            len(result.report.devices),
            self.host,
        )


def _optional(conf: cfg.ConfigOpts, name: str) -> Any:
    try:
        return getattr(conf, name)
    except cfg.NoSuchOptError:
        return None
