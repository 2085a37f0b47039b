#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# embed.sh <module dir>: stock virsh against libvirt_driver_khv.so in
# embedded mode (khv:///embed?root=DIR: libvirt loads the module into
# virsh itself, state under DIR).  TAP on stdout.
set -uo pipefail

mod_dir=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
export LIBVIRT_DRIVER_DIR=$mod_dir
uri="khv:///embed?root=$root"
n=0
fail=0

ok() {	# ok <0|1> <description>
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fail=1
	fi
}

# vsh <args...>: virsh on the embedded URI; output in $out, status in $rc.
vsh() {
	out=$(timeout 60 virsh -q -c "$uri" "$@" 2>&1)
	rc=$?
}

has() { grep -q -- "$1" <<<"$out"; }

echo "1..12"

vsh uri
[ "$rc" = 0 ] && [ "$out" = "$uri" ]
ok $? "virsh uri: $uri"

vsh version
[ "$rc" = 0 ] && has "Running hypervisor: KHV 0.1.0"
ok $? "virsh version: KHV 0.1.0"

vsh hostname
ok "$rc" "virsh hostname: $out"
[ "$out" = "$(hostname)" ]
ok $? "virsh hostname is the host's ($(hostname))"

vsh nodeinfo
[ "$rc" = 0 ] && has "^CPU(s): *$(nproc)\$"
ok $? "virsh nodeinfo: $(nproc) CPUs"

vsh maxvcpus
[ "$rc" = 0 ] && [ "$out" = 64 ]
ok $? "virsh maxvcpus: 64 (KHV_MAX_VCPUS)"

vsh capabilities
caps_ok=0
for want in "<os_type>hvm</os_type>" "<arch name='x86_64'>" "<domain type='kvm'/>" \
	"<emulator>/"; do
	grep -qF -- "$want" <<<"$out" || { caps_ok=1; echo "# capabilities lack $want"; }
done
[ "$rc" = 0 ] && [ "$caps_ok" = 0 ]
ok $? "virsh capabilities: x86_64 hvm guests of type kvm, khv-run as emulator"

vsh list --all
[ "$rc" = 0 ] && [ -z "$out" ]
ok $? "virsh list --all: no domains yet, no error"

# The embedded driver keeps its state under the root it was given.
[ -d "$root/etc/khv" ] && [ -d "$root/run/khv" ]
ok $? "state under the embedded root: etc/khv, run/khv"

# One process, one embedded root: a second root is refused with a reason.
other=$(mktemp -d)
out=$(timeout 60 virsh -q -c "$uri" "connect khv:///embed?root=$other" 2>&1)
rc=$?
rm -rf "$other"
[ "$rc" != 0 ] && has "is open at"
ok $? "a second embedded root in the same process is refused"

vsh maxvcpus --type qemu
[ "$rc" != 0 ] && has "unknown domain type 'qemu'"
ok $? "virsh maxvcpus --type qemu: refused"

vsh list --all --managed-save
ok "$rc" "virsh list --all --managed-save (a filter flag): accepted"

exit "$fail"
