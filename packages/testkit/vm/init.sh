#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# /init of the VM tier's initramfs (busybox sh): mounts the kernel filesystems, loads the
# modules the tests need, runs the selected tests, prints their status on the serial console and
# always powers the machine off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp
# The machine is this throw-away VM: skip useTestNetns's snapshots of it (2.5 s a test under TCG).
export CNI_TESTKIT_LEAK_CHECK=0 CNI_VM=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run /tmp /root
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
echo "CNI-VM-BOOTED $(cut -d' ' -f1 /proc/uptime)"

while read -r module; do
  insmod "/lib/modules/$module" || echo "CNI-VM-WARNING failed to load $module"
done </etc/cni-vm/modules
echo "CNI-VM-MODULES $(cut -d' ' -f1 /proc/uptime)"
ip link set lo up

timeout_s=$(sed -n 's/.*cni\.timeout=\([0-9]*\).*/\1/p' /proc/cmdline)
cd /work/main
timeout -s KILL "${timeout_s:-540}" sh /etc/cni-vm/run
status=$?
echo "CNI-VM-EXIT $status $(cut -d' ' -f1 /proc/uptime)"
sync
poweroff -f
reboot -f
