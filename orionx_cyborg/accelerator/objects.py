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

"""Turn report specs into Cyborg's driver objects.

Only Cyborg's stock driver objects cross to the conductor (its serializer
knows no others), and every field is set explicitly, lists included, so a
missing field can never make the conductor drop the report.
"""

from __future__ import annotations

from typing import Any

from cyborg.objects.driver_objects import driver_attach_handle
from cyborg.objects.driver_objects import driver_attribute
from cyborg.objects.driver_objects import driver_controlpath_id
from cyborg.objects.driver_objects import driver_deployable
from cyborg.objects.driver_objects import driver_device

from orionx_cyborg import resources
from orionx_cyborg.accelerator import spec


def to_driver_devices(devices: list[spec.DeviceSpec]) -> list[Any]:
    """Cyborg ``DriverDevice`` objects for *devices*, in order."""
    return [to_driver_device(device) for device in devices]


def to_driver_device(device: spec.DeviceSpec) -> Any:
    obj = driver_device.DriverDevice()
    obj.vendor = device.vendor
    obj.model = device.model
    obj.type = device.device_type
    obj.std_board_info = device.std_board_info
    obj.vendor_board_info = device.vendor_board_info
    obj.stub = device.stub
    obj.controlpath_id = _controlpath(device)
    obj.deployable_list = [_deployable(d) for d in device.deployables]
    return obj


def _controlpath(device: spec.DeviceSpec) -> Any:
    cpid = driver_controlpath_id.DriverControlPathID()
    cpid.cpid_type = 'PCI'
    cpid.cpid_info = device.cpid_info
    return cpid


def _deployable(deployable: spec.DeployableSpec) -> Any:
    obj = driver_deployable.DriverDeployable()
    obj.name = deployable.name
    obj.num_accelerators = deployable.total
    obj.driver_name = resources.DRIVER_NAME
    attributes = [_attribute('rc', deployable.resource_class)]
    attributes += [_attribute(key, trait) for key, trait in deployable.traits]
    obj.attribute_list = attributes
    obj.attach_handle_list = [
        _attach_handle(handle) for handle in deployable.attach_handles
    ]
    return obj


def _attribute(key: str, value: str) -> Any:
    attribute = driver_attribute.DriverAttribute()
    attribute.key = key
    attribute.value = value
    return attribute


def _attach_handle(handle: spec.AttachHandleSpec) -> Any:
    obj = driver_attach_handle.DriverAttachHandle()
    obj.attach_type = handle.attach_type
    obj.attach_info = handle.attach_info
    obj.in_use = False
    return obj
