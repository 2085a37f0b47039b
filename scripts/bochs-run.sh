#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the test kernel with an initramfs in Bochs (Intel VT-x: VMX with EPT,
# VPID and unrestricted guest), serial console to a log.  Same interface as
# scripts/qemu-run.sh:
# usage: bochs-run.sh <initrd.cpio.gz> <log> [kernel args...]
# Exit status: 0 when the guest powered off, 124 when BOCHS_TIMEOUT seconds
# passed (Bochs is killed), else Bochs's own (non-zero: it stopped on a
# panic, e.g. the guest kernel rebooting or triple-faulting).
#
# Bochs has no direct kernel boot: scripts/mkiso.sh packs kernel, initrd
# and command line into <log>.iso.  Beside the log: <log>.bochsrc (from
# scripts/bochs/bochsrc.in), <log>.bochs (Bochs's own log), <log>.err
# (its stdout and stderr), <log>.cmd.
# Knobs: BOCHS_TIMEOUT (900 s), BOCHS_CPU (broadwell_ult), BOCHS_SMP (1),
# BOCHS_QUANTUM (16, 1..32), BOCHS_MEM (MiB, 2048), BOCHS_IPS (200000000),
# BOCHS_ERRORS (report: Bochs logs every EPT-violation exit and VM-entry
# failure; ignore), BOCHS_NETNS (1).  Documentation/khv/bochs.rst.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

initrd=${1:?usage: bochs-run.sh <initrd> <log> [kernel args...]}
log=${2:?usage: bochs-run.sh <initrd> <log> [kernel args...]}
shift 2

BOCHS_TIMEOUT=${BOCHS_TIMEOUT:-900}
bios=${BOCHS_BIOS:-/usr/share/bochs/BIOS-bochs-latest}
vgabios=${BOCHS_VGABIOS:-/usr/share/vgabios/vgabios.bin}
command -v bochs >/dev/null || die "bochs missing (apt-get install bochs bochsbios)"
[ -r "$bios" ] || die "$bios missing (apt-get install bochsbios)"
[ -r "$vgabios" ] || die "$vgabios missing (apt-get install vgabios)"

# reboot=t: a reboot (panic=-1 after an oops) becomes a triple fault,
# which bochsrc turns into a Bochs panic, so the run ends there as QEMU's
# -no-reboot does, instead of booting the CD again until the timeout.
# shellcheck disable=SC2086 # KERNEL_ARGS: zero or more arguments
bash "$KHV_ROOT/scripts/mkiso.sh" "$log.iso" "$initrd" panic=-1 reboot=t $KERNEL_ARGS "$@"

rc_in=$KHV_ROOT/scripts/bochs/bochsrc.in
conf=$(<"$rc_in")
conf=${conf//@BIOS@/$bios}
conf=${conf//@VGABIOS@/$vgabios}
conf=${conf//@MEGS@/${BOCHS_MEM:-2048}}
conf=${conf//@CPU_MODEL@/${BOCHS_CPU:-broadwell_ult}}
conf=${conf//@CPU_COUNT@/${BOCHS_SMP:-1}}
conf=${conf//@QUANTUM@/${BOCHS_QUANTUM:-16}}
conf=${conf//@IPS@/${BOCHS_IPS:-200000000}}
conf=${conf//@ISO@/$log.iso}
conf=${conf//@SERIAL@/$log}
conf=${conf//@LOG@/$log.bochs}
conf=${conf//@ERROR_ACTION@/${BOCHS_ERRORS:-report}}
printf '%s\n' "$conf" >"$log.bochsrc"

# Debian builds Bochs with its debugger, which stops before the first
# instruction: the command file continues.  Power-off, triple fault and
# every other panic end the process (bochsrc: panic action=fatal), so the
# debugger never prompts.
printf 'c\n' >"$log.rc"
: >"$log"

# The rfb display is a VNC server without a password on 0.0.0.0:5900-5949
# that can type into the guest.  In a network namespace of its own (root
# can make one) nothing outside reaches it, and parallel runs do not
# compete for the 50 ports.
netns=()
if [ "${BOCHS_NETNS:-1}" = 1 ] && unshare -n true 2>/dev/null; then
	netns=(unshare -n)
fi
cmd=(${netns[@]+"${netns[@]}"} bochs -q -f "$log.bochsrc" -rc "$log.rc")
say "${cmd[*]}" >"$log.cmd"
rc=0
timeout -k 10 "$BOCHS_TIMEOUT" "${cmd[@]}" </dev/null >"$log.err" 2>&1 || rc=$?
# The ACPI power-off is a normal end, whatever status Bochs leaves with.
if [ "$rc" != 124 ] && grep -aq 'ACPI control: soft power off' "$log.bochs" 2>/dev/null; then
	rc=0
fi
exit "$rc"
