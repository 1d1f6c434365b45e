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

"""The vocabulary the driver, the attach service and profiles share.

The driver reports resource classes, traits, deployable names and board
info to Cyborg (and through it to Placement); the attach service reads
them back to see the pool; device profiles ask for them. Every name that
crosses between those parts is built here and only here, so changing a
trait or a resource class is one edit. This module imports nothing of
the package.
"""

from __future__ import annotations

import re

#: The driver name Cyborg shows on every deployable the driver reports.
DRIVER_NAME = 'ORIONX'

# Resource classes ---------------------------------------------------------

#: A whole GPU, passed through.
RC_PGPU = 'PGPU'
#: A whole NPU (Huawei Ascend) passed through; Placement has no standard
#: class for NPUs.
RC_PNPU = 'CUSTOM_PNPU'
#: One vGPU instance (mdev or SR-IOV VF).
RC_VGPU = 'VGPU'
#: One SR-IOV virtual function of a GPU that is itself the partition,
#: passed through whole (AMD MxGPU VFs under the GIM host driver). Not
#: ``VGPU``: no vGPU type is configured on it, its size is fixed by the
#: number of VFs the host driver enabled.
RC_GPU_VF = 'CUSTOM_GPU_VF'
#: A pool member's GPU memory, in MiB.
RC_POOL_MEMORY = 'CUSTOM_ORIONX_GMEM_MIB'
#: A pool member's compute, in percent of one GPU.
RC_POOL_COMPUTE = 'CUSTOM_ORIONX_COMPUTE_PCT'
#: A host's right to attach one pooled vGPU.
RC_ENTITLEMENT = 'CUSTOM_ORIONX_VGPU'

# Attach-handle types --------------------------------------------------------

AH_PCI = 'PCI'
AH_MDEV = 'MDEV'
#: The one attach-handle type Nova's libvirt driver ignores (it logs and
#: boots the VM without a device). Cyborg's database accepts only PCI, MDEV
#: and TEST_PCI, so a pooled vGPU, which reaches the VM over the network,
#: borrows TEST_PCI until Cyborg has a type for remote devices.
AH_REMOTE = 'TEST_PCI'

# Traits ---------------------------------------------------------------------

TRAIT_OWNER = 'OWNER_CYBORG'
TRAIT_VENDOR = 'CUSTOM_GPU_NVIDIA'
#: Vendor traits by PCI vendor id. A Cyborg device's ``vendor`` is the PCI
#: vendor id itself ("10de", "19e5" in Cyborg's Ascend driver).
VENDOR_TRAITS = {
    '10de': TRAIT_VENDOR,
    '1002': 'CUSTOM_GPU_AMD',
    '19e5': 'CUSTOM_NPU_HUAWEI',
    '1ed5': 'CUSTOM_GPU_MTHREADS',
}
#: PCI vendors whose accelerators are NPUs, not GPUs.
NPU_VENDORS = frozenset({'19e5'})

#: Cyborg device types (cyborg.common.constants): GPUs are ``GPU``; NPUs
#: are ``AICHIP``, as Cyborg's own Huawei Ascend driver reports them.
DEVICE_TYPE_GPU = 'GPU'
DEVICE_TYPE_NPU = 'AICHIP'
TRAIT_MIG_ENABLED = 'CUSTOM_GPU_MIG_ENABLED'
#: A deployable that is one SR-IOV virtual function of a GPU.
TRAIT_SRIOV_VF = 'CUSTOM_GPU_SRIOV_VF'
TRAIT_UNHEALTHY = 'CUSTOM_ORIONX_UNHEALTHY'

#: Prefixes of the trait families a device profile asks for.
MODEL_TRAIT_PREFIX = 'CUSTOM_GPU_MODEL_'
PRODUCT_TRAIT_PREFIX = 'CUSTOM_GPU_PRODUCT_ID_'
VGPU_TYPE_TRAIT_PREFIX = 'CUSTOM_NVIDIA_VGPU_'
POOL_TRAIT_PREFIX = 'CUSTOM_ORIONX_POOL_'

#: Attribute keys of the traits on a deployable. Every key starts with
#: "trait" (Cyborg's convention) and names what the trait says, so that
#: adding or removing one trait never renames the others.
OWNER_TRAIT_KEY = 'trait_owner'
VENDOR_TRAIT_KEY = 'trait_vendor'
PRODUCT_TRAIT_KEY = 'trait_product'
MODEL_TRAIT_KEY = 'trait_model'
MEMORY_TRAIT_KEY = 'trait_memory'
COMPUTE_CAPABILITY_TRAIT_KEY = 'trait_compute_capability'
MIG_TRAIT_KEY = 'trait_mig'
POOL_TRAIT_KEY = 'trait_pool'
VGPU_TYPE_TRAIT_KEY = 'trait_vgpu_type'
HEALTH_TRAIT_KEY = 'trait_health'
SRIOV_VF_TRAIT_KEY = 'trait_sriov_vf'

_NOT_TRAIT = re.compile(r'[^A-Z0-9]+')


def trait_part(text: str) -> str:
    """Upper-case *text* and keep only [A-Z0-9_] (runs become one _)."""
    return _NOT_TRAIT.sub('_', text.upper()).strip('_')


# Vendor names that lead model names and say nothing a trait needs.
_VENDOR_WORDS = frozenset({'NVIDIA', 'AMD'})


def model_name_part(name: str) -> str:
    """``NVIDIA H200`` -> ``H200``; ``Tesla T4`` -> ``TESLA_T4``.

    ``AMD Instinct MI300X`` -> ``INSTINCT_MI300X``.
    """
    words = name.split()
    if len(words) > 1 and words[0].upper() in _VENDOR_WORDS:
        words = words[1:]
    return trait_part(' '.join(words))


def device_kind(vendor_id: str) -> str:
    """``NPU`` for NPU vendors (Huawei Ascend), else ``GPU``."""
    return 'NPU' if vendor_id in NPU_VENDORS else 'GPU'


def device_type(vendor_id: str) -> str:
    """The Cyborg device type of a vendor's accelerators."""
    if device_kind(vendor_id) == 'NPU':
        return DEVICE_TYPE_NPU
    return DEVICE_TYPE_GPU


def vendor_trait(vendor_id: str) -> str:
    """``CUSTOM_GPU_NVIDIA``, ``CUSTOM_GPU_AMD``, ``CUSTOM_NPU_HUAWEI``..."""
    return VENDOR_TRAITS.get(
        vendor_id, 'CUSTOM_GPU_VENDOR_%s' % vendor_id.upper()
    )


def model_trait(model: str, kind: str = 'GPU') -> str:
    """The trait of a model, by its library's name.

    ``CUSTOM_GPU_MODEL_H200``, ``CUSTOM_NPU_MODEL_ASCEND910B3``.
    """
    return 'CUSTOM_%s_MODEL_%s' % (kind, model_name_part(model))


def product_trait(product_id: str, kind: str = 'GPU') -> str:
    """The trait of a PCI device id: ``CUSTOM_GPU_PRODUCT_ID_2335``."""
    return 'CUSTOM_%s_PRODUCT_ID_%s' % (kind, product_id.upper())


def memory_trait(memory_mib: int, kind: str = 'GPU') -> str:
    """The trait of a device's memory, rounded to GB."""
    return 'CUSTOM_%s_MEMORY_%dGB' % (kind, int(round(memory_mib / 1024)))


def compute_capability_trait(major: int, minor: int) -> str:
    return 'CUSTOM_GPU_COMPUTE_CAPABILITY_%d_%d' % (major, minor)


def vgpu_type_trait(vgpu_type: str) -> str:
    """The trait of a vGPU type, by NVIDIA's name (``NVIDIA H200-35C``)."""
    return VGPU_TYPE_TRAIT_PREFIX + model_name_part(vgpu_type)


def pool_trait(pool: str) -> str:
    """The trait every member and entitlement of *pool* carries."""
    return POOL_TRAIT_PREFIX + pool.upper()


# Deployable names -----------------------------------------------------------

_NOT_NAME = re.compile(r'[^A-Za-z0-9_-]')

#: Suffixes after a GPU's deployable prefix (``<host>_<pci address>``).
PASSTHROUGH_SUFFIX = 'PGPU'
PASSTHROUGH_NPU_SUFFIX = 'PNPU'
POOL_MEMORY_SUFFIX = 'GMEM'
POOL_COMPUTE_SUFFIX = 'COMPUTE'
#: Suffix of a virtual function's deployable, after ``<host>_<VF address>``.
VF_SUFFIX = 'VF'
#: The part between host and pool name of an entitlement's deployable.
ENTITLEMENT_NAME_PART = 'ORIONX_VGPU'


def deployable_name(host: str, *parts: str) -> str:
    """A Placement-safe, host-unique deployable (and RP) name."""
    return _NOT_NAME.sub('_', '_'.join((host,) + parts))


def vgpu_suffix(vgpu_type: str) -> str:
    """The suffix of a GPU's deployable for one vGPU type."""
    return 'VGPU_%s' % model_name_part(vgpu_type)


def suffixed(prefix: str, suffix: str) -> str:
    """The deployable name of *suffix* under a GPU's *prefix*."""
    return '%s_%s' % (prefix, suffix)


# Board info -----------------------------------------------------------------

#: Keys of a GPU device's std_board_info. The PCI address and the
#: deployable prefix let consumers of Cyborg's API (the attach service,
#: profiles) pair a device with its deployables: the API shows no device
#: id on deployables.
BOARD_PCI_ADDRESS = 'pci_address'
BOARD_PRODUCT_ID = 'product_id'
BOARD_UUID = 'uuid'
BOARD_MEMORY_MIB = 'memory_mib'
BOARD_COMPUTE_CAPABILITY = 'compute_capability'
BOARD_DEPLOYABLE_PREFIX = 'deployable_prefix'
