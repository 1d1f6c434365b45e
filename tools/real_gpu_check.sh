#!/bin/bash
# Run on a host with real NVIDIA GPUs (read-only: changes no GPU setting).
# Writes into OUT: nvidia-smi's view, every NVML answer our seam asks for
# (tools/nvml_probe.py), and what `orionx-cyborg discover` would report in
# each mode, for comparison with the simulated library.
# usage: tools/real_gpu_check.sh OUT
set -o nounset
out=$1
mkdir -p "$out/real"
nvidia-smi -q > "$out/nvidia-smi.txt" 2>&1
python3 tools/nvml_probe.py --out "$out/real" > /dev/null 2>> "$out/errors.txt"
conf=$(mktemp -d)
for mode in passthrough pool vgpu; do
    printf '[orionx_gpu]\ndefault_mode = %s\nstate_dir = %s/%s\n' \
        "$mode" "$conf" "$mode" > "$conf/$mode.conf"
    if [ "$mode" = vgpu ]; then
        # A type the H200 offers where a vGPU manager runs.
        echo 'enabled_vgpu_types = NVIDIA H200X-35C' >> "$conf/$mode.conf"
    fi
    python3 -c 'import sys
from orionx_cyborg.cmd import cli
args = cli.build_parser().parse_args(sys.argv[1:])
sys.exit(args.handler(args, sys.stdout))' \
        discover --json --config-file "$conf/$mode.conf" \
        > "$out/discover-$mode.json" 2>> "$out/errors.txt"
done
for dev in /sys/bus/pci/devices/*; do
    [ "$(cat "$dev/vendor" 2> /dev/null)" = 0x10de ] || continue
    echo "== $dev"
    for f in vendor device subsystem_device class numa_node \
        sriov_totalvfs sriov_numvfs; do
        printf '%s: %s\n' "$f" "$(cat "$dev/$f" 2> /dev/null)"
    done
    printf 'driver: %s\n' "$(readlink "$dev/driver")"
    ls "$dev" | tr '\n' ' '
    echo
done > "$out/sysfs.txt" 2>&1
