/*
 * Copyright (c) 2026 orionx-cyborg developers
 *
 * Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License. You may obtain
 * a copy of the License at
 *
 *      http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
 * WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
 * License for the specific language governing permissions and limitations
 * under the License.
 *
 * A stand-in libnvidia-ml.so.1 in C: two H200s behind the NVML C ABI, for
 * the test that loads the driver's NVML seam through the dynamic loader
 * (a library first on LD_LIBRARY_PATH, or [orionx_gpu] nvml_library).
 * Written from NVML's public ABI (return codes, struct layouts as pynvml
 * declares them); symbols it lacks are "not found", as on old drivers.
 */
#include <stdio.h>
#include <string.h>

#define NVML_SUCCESS 0
#define NVML_ERROR_UNINITIALIZED 1
#define NVML_ERROR_INVALID_ARGUMENT 2
#define NVML_ERROR_INSUFFICIENT_SIZE 7

typedef struct nvmlDevice_st *nvmlDevice_t;

typedef struct {
    char busIdLegacy[16];
    unsigned int domain;
    unsigned int bus;
    unsigned int device;
    unsigned int pciDeviceId;
    unsigned int pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;

typedef struct {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
} nvmlMemory_t;

static int initialized;
static const unsigned int buses[] = {0x18, 0x2a};
#define GPU_COUNT 2

static int index_of(nvmlDevice_t device)
{
    long value = (long)device - 0x1000;
    if (!initialized || value < 0 || value >= GPU_COUNT)
        return -1;
    return (int)value;
}

static int copy(char *out, unsigned int size, const char *text)
{
    if (strlen(text) + 1 > size)
        return NVML_ERROR_INSUFFICIENT_SIZE;
    strcpy(out, text);
    return NVML_SUCCESS;
}

int nvmlInitWithFlags(unsigned int flags)
{
    (void)flags;
    initialized++;
    return NVML_SUCCESS;
}

int nvmlShutdown(void)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    initialized--;
    return NVML_SUCCESS;
}

const char *nvmlErrorString(int result)
{
    return result ? "Stand-in error" : "Success";
}

int nvmlSystemGetDriverVersion(char *version, unsigned int length)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    return copy(version, length, "999.99-standin");
}

int nvmlDeviceGetCount_v2(unsigned int *count)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    *count = GPU_COUNT;
    return NVML_SUCCESS;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device)
{
    if (!initialized)
        return NVML_ERROR_UNINITIALIZED;
    if (index >= GPU_COUNT)
        return NVML_ERROR_INVALID_ARGUMENT;
    *device = (nvmlDevice_t)(long)(0x1000 + index);
    return NVML_SUCCESS;
}

int nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length)
{
    if (index_of(device) < 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    return copy(name, length, "NVIDIA H200");
}

int nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length)
{
    char text[64];
    int index = index_of(device);
    if (index < 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    snprintf(text, sizeof(text),
             "GPU-0000000%d-1111-2222-3333-444455556666", index);
    return copy(uuid, length, text);
}

int nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci)
{
    int index = index_of(device);
    if (index < 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    memset(pci, 0, sizeof(*pci));
    snprintf(pci->busId, sizeof(pci->busId), "00000000:%02X:00.0",
             buses[index]);
    memcpy(pci->busIdLegacy, pci->busId, sizeof(pci->busIdLegacy) - 1);
    pci->bus = buses[index];
    pci->pciDeviceId = 0x233510DE;
    pci->pciSubSystemId = 0x18A610DE;
    return NVML_SUCCESS;
}

int nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory)
{
    if (index_of(device) < 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    memory->total = 143771ULL * 1024 * 1024;
    memory->free = memory->total;
    memory->used = 0;
    return NVML_SUCCESS;
}

int nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int *major,
                                       int *minor)
{
    if (index_of(device) < 0)
        return NVML_ERROR_INVALID_ARGUMENT;
    *major = 9;
    *minor = 0;
    return NVML_SUCCESS;
}
