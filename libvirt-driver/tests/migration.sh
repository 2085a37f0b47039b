#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# migration.sh <build dir>: live migration between two virtkhvd daemons,
# as between two lab hosts: stock virsh migrate --live from one to the
# other (libvirt's protocol 3 with parameters, the client in between),
# khv-run played by tests/fake-khv-run (its migrate sends its argument
# list to the other's --incoming, which answers as khv-run does).  Both
# daemons are session daemons of "nobody" (as daemon.sh's), each with
# its own directories; virsh reaches each through its socket
# (khv+unix:///session?socket=...).  TAP on stdout.
set -uo pipefail

build=$1
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	# $! is host()'s subshell, not the daemon under it: by name too.
	pkill -f "$t/bin/virtkhvd" 2>/dev/null
	pkill -f "fake-khv-run.*$t" 2>/dev/null
	rm -rf "$t"
}
trap cleanup EXIT

# shellcheck source-path=SCRIPTDIR source=tap.sh
. "$here/tap.sh"

mkdir -p "$t/bin"
cp "$build/virtkhvd" "$build/libvirt_driver_khv.so" "$here/fake-khv-run" "$t/bin/"
chmod 0755 "$t" "$t/bin"
user=(env)
[ "$(id -u)" = 0 ] && user=(setpriv --reuid=nobody --regid=nogroup --clear-groups env)

# host <a|b> <command...>: as nobody with host a's or b's directories.
host() {
	local h=$t/$1
	shift
	"${user[@]}" HOME="$h/home" XDG_RUNTIME_DIR="$h/run" XDG_CONFIG_HOME="$h/home/.config" \
		XDG_CACHE_HOME="$h/home/.cache" LIBVIRT_DRIVER_DIR="$t/bin" "$@"
}
uri() { echo "khv+unix:///session?socket=$t/$1/run/libvirt/virtkhvd-sock"; }

start_daemon() {	# start_daemon <a|b>
	mkdir -p "$t/$1/home" "$t/$1/run"
	chown -R nobody "$t/$1" 2>/dev/null
	host "$1" "$t/bin/virtkhvd" >>"$t/$1.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		host "$1" virsh -c "$(uri "$1")" uri >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

vsh() {	# vsh <a|b> <args...>: virsh on that host; $out, $rc
	local h=$1
	shift
	out=$(host "$h" timeout 60 virsh -q -c "$(uri "$h")" "$@" 2>&1)
	rc=$?
}

# migrate <from> <to> <name> [options...]: virsh migrate, as a user types it.
migrate() {
	local from=$1 to=$2 name=$3
	shift 3
	vsh "$from" migrate "$@" "$name" "$(uri "$to")" --migrateuri tcp:127.0.0.1
}

# The disk is shared by both hosts, as migration wants; its format given,
# so that no call asks libvirt's storage driver (which session daemons do
# not have here: each ask waits 5 s for one to start).
domxml() {	# domxml <name>
	cat <<EOF
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/boot/vmlinuz</kernel>
  </os>
  <devices>
    <emulator>$t/bin/fake-khv-run</emulator>
    <disk type='file' device='disk'>
      <driver type='raw'/>
      <source file='$t/shared.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='pty'/>
  </devices>
</domain>
EOF
}

echo "1..14"

truncate -s 1M "$t/shared.img"
chmod 0666 "$t/shared.img"
domxml vm >"$t/vm.xml"
domxml refuse-vm >"$t/refuse.xml"
chmod 0644 "$t/vm.xml" "$t/refuse.xml"
start_daemon a && start_daemon b
ok $? "two virtkhvd session daemons, hosts a and b" || { tail -n 5 "$t"/*.log; exit 1; }

vsh a "define $t/vm.xml; start vm"
ok "$rc" "host a: vm defined and started" || say
migrate a b vm --live
[ "$rc" = 0 ]
ok $? "virsh migrate --live vm to host b" || say
vsh b domstate --reason vm
[ "$rc" = 0 ] && has "^running (migrated)"
ok $? "host b: running (migrated)" || say
argv=$t/b/run/libvirt/khv/vm.ctl.argv
grep -qx -- "--incoming" "$argv" && grep -qx "tcp:0.0.0.0:4915[2-9]\|tcp:0.0.0.0:492[01][0-9]" "$argv" &&
	grep -qx -- "--paused" "$argv" && grep -q "fake-khv-run\|--control" "$t/b/run/libvirt/khv/vm.ctl.migrated-in" &&
	grep -qF "$t/a/run/libvirt/khv/vm.ctl" "$t/b/run/libvirt/khv/vm.ctl.migrated-in"
ok $? "host b's khv-run: --incoming on a migration port, --paused; it received host a's stream" || {
	sed 's/^/# argv: /' "$argv"
}
vsh a "domstate --reason vm; dominfo vm"
[ "$rc" = 0 ] && has "^shut off (migrated)" && has "^Persistent: *yes" &&
	! pgrep -f "fake-khv-run.*$t/a/" >/dev/null
ok $? "host a: shut off (migrated), still defined, its khv-run gone" || say
vsh b "dominfo vm; domjobinfo vm"
[ "$rc" = 0 ] && has "^Persistent: *no" && has "Job type: *None"
ok $? "host b: transient (no --persistent), no job left" || say

# Back, made persistent on a, and undefined on b (transient there: gone).
migrate b a vm --live --persistent --undefinesource
vsh a "domstate --reason vm; dominfo vm"
[ "$rc" = 0 ] && has "^running (migrated)" && has "^Persistent: *yes"
ok $? "back to host a with --persistent --undefinesource: running, persistent" || say
vsh b "list --all"
[ "$rc" = 0 ] && ! has " vm "
ok $? "host b: nothing left of it" || say

# Not live: the guest stops for the copy, and runs on host b after it.
migrate a b vm
vsh b domstate --reason vm
[ "$rc" = 0 ] && has "^running (migrated)"
ok $? "virsh migrate (not live): running on host b" || say

# A destination that refuses the stream: the source runs on.
vsh a "define $t/refuse.xml; start refuse-vm"
migrate a b refuse-vm --live
out2=$out
vsh a "domstate --reason refuse-vm"
[ "$rc" = 0 ] && grep -q "migration failed: the fake refuses this domain" <<<"$out2" &&
	has "^running"
ok $? "a destination that refuses: its reason in the error, the source runs on" ||
	{ out="$out2 / $out"; say; }
vsh b "list --all"
[ "$rc" = 0 ] && ! has "refuse-vm" && ! pgrep -f "fake-khv-run.*$t/b/.*refuse" >/dev/null
ok $? "and nothing of it is left on host b" || say
vsh a "suspend refuse-vm; resume refuse-vm"
ok "$rc" "the source's monitor works after the failed migration" || say

# What khv does not do is refused before anything moves.
vsh a migrate --live --p2p refuse-vm "$(uri b)"
[ "$rc" != 0 ] && has "p2p migration is not supported"
ok $? "virsh migrate --p2p: refused" || say

exit "$fail"
