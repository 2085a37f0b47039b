#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest.sh: the libvirt driver end to end, in lane khvrun's test machine
# (khv loaded, khv-run, a Linux guest of its own under /khv/l2): virtkhvd
# runs as the system daemon with libvirt_driver_khv.so, and stock virsh
# (khv:///system, through libvirt's remote driver) runs the real khv-run.
# Installed as selftest libvirt (scripts/check.sh).  busybox sh; TAP on
# stdout.

export LIBVIRT_DRIVER_DIR=/khv/libvirt
root=/tmp/libvirt-test
state=/run/libvirt/khv
uri=khv:///system
daemon=

# shellcheck source-path=SCRIPTDIR source=tap.sh
. /khv/libvirt/tap.sh
machine_root "$root"

vsh() {	# vsh <args...>: output in $out, status in $rc
	out=$(timeout 300 virsh -q -c "$uri" "$@" 2>&1)
	rc=$?
}


# wait_line <file> <text> <seconds>: 0 once the file holds the text.
wait_line() {
	i=0
	while [ "$i" -lt "$3" ]; do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 1
		i=$((i + 1))
	done
	return 1
}

stop_daemon() {	# 0 once it has exited
	kill "$daemon" && wait "$daemon"
	! kill -0 "$daemon" 2>/dev/null
}

# The guest: lane khvrun's Linux (l2_domain: it holds until the ACPI
# power button); one interface on a bridge the test makes, one on
# libvirt's default network (the guest takes a DHCP lease there and pings
# the router: khvdhcp=).
netmac=52:54:00:6b:68:77
l2_domain l2 "khvrun=hold khvdhcp=$netmac" "    <interface type='bridge'>
      <mac address='52:54:00:6b:68:76'/>
      <source bridge='khvlvbr0'/>
      <model type='virtio'/>
    </interface>
    <interface type='network'>
      <mac address='$netmac'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <graphics type='vnc' autoport='yes'/>
    <input type='tablet' bus='usb'/>" >"$root/vm.xml"

echo "1..53"

# The bridge the guest's interface joins.
bridge_modules && ip link add khvlvbr0 type bridge && ip link set khvlvbr0 up
ok $? "a bridge for the guest (khvlvbr0)"

start_virtkhvd
ok $? "virtkhvd, the system daemon, answers virsh -c khv:///system" || {
	sed 's/^/# daemon: /' "$root/daemon.log"
	virsh -c "$uri" uri 2>&1 | sed 's/^/# virsh: /'
	ls -la /run/libvirt 2>&1 | sed 's/^/# /'
	echo "Bail out! no daemon"
	exit 1
}
vsh version
[ "$rc" = 0 ] && has "Running hypervisor: KHV"
ok $? "virsh version: KHV, through the daemon" || say

# libvirt's network driver, which virtkhvd reaches for the khv
# connection's network calls, and its default network: virbr0 with
# 192.168.122.1, dnsmasq serving DHCP, NAT rules.
start_libvirtd "$root/libvirtd.log"
ok $? "libvirtd serves the storage and network drivers" ||
	sed 's/^/# libvirtd: /' "$root/libvirtd.log"
default_network_xml >"$root/default-net.xml"
vsh "net-define $root/default-net.xml; net-start default; net-list"
[ "$rc" = 0 ] && has "^ *default *active" && ip -4 addr show virbr0 | grep -q "inet 192.168.122.1/24" &&
	running "dnsmasq --conf-file=/var/lib/libvirt/dnsmasq/default.conf" >/dev/null &&
	iptables -t nat -S | grep -q "LIBVIRT_PRT.*192.168.122.0/24.*MASQUERADE"
ok $? "through khv:///system: the default network started (virbr0, dnsmasq, NAT)" || {
	say
	sed 's/^/# libvirtd: /' "$root/libvirtd.log" | tail -n 20
}
vsh define "$root/vm.xml"
ok "$rc" "virsh define" || say
vsh start l2
ok "$rc" "virsh start: khv-run runs the guest" || say
pid=$(cat "$state/l2.pid" 2>/dev/null)
vsh list
echo "$out" | grep -q "^ *$pid *l2 *running"
ok $? "virsh list: running, its ID khv-run's pid ($pid)" || say

# COM1's pty from the live XML: the guest's own words come through it.
vsh dumpxml l2
pty=$(serial_pty)
[ -c "$pty" ]
ok $? "the live XML names COM1's pty ($pty)" || say
(timeout 420 cat "$pty" >"$root/com1.log" 2>&1 &)
wait_line "$root/com1.log" "KHVRUN-INIT" 240
ok $? "the guest booted: its init line came through the pty" ||
	sed 's/^/# com1: /' "$root/com1.log" | tail -n 20
grep "KHVRUN-INIT" "$root/com1.log" | head -n 1 | sed 's/^/# /'

# The VNC display (virt-manager's): the live XML names khv-run's port, and
# a VNC server answers there with RFB's greeting.
port=$(echo "$out" | sed -n "s/.*<graphics type='vnc' port='\([0-9]*\)'.*/\1/p")
greet=$( (sleep 2) | timeout 10 nc 127.0.0.1 "${port:-0}" 2>/dev/null | head -c 11)
[ -n "$port" ] && [ "$greet" = "RFB 003.008" ] && echo "$out" | grep -q "<input type='tablet' bus='virtio'/>"
ok $? "the live XML names the VNC port ($port), where khv-run greets: $greet" || say

# The driver made a tap on the bridge and handed khv-run its fd.
vsh dumpxml l2
tap=$(echo "$out" | sed -n "s/.*<target dev='\(vnet[0-9]*\)'.*/\1/p" | head -n 1)
[ -n "$tap" ] && [ "$(basename "$(readlink "/sys/class/net/$tap/master")")" = khvlvbr0 ]
ok $? "the interface's tap ($tap) is a port of khvlvbr0, named in the live XML" || say
vsh domifstat l2 "$tap"
[ "$rc" = 0 ] && has "$tap rx_bytes" && has "$tap tx_packets"
ok $? "virsh domifstat: the tap's counters" || say

# The interface on the default network: the network driver gave it a
# port on virbr0, the guest a lease, and the router answers its pings.
vsh dumpxml l2
ntap=$(echo "$out" | sed -n "/<interface type='network'>/,/<\/interface>/s/.*<target dev='\(vnet[0-9]*\)'.*/\1/p")
[ -n "$ntap" ] && [ "$(basename "$(readlink "/sys/class/net/$ntap/master")")" = virbr0 ] &&
	has "<source network='default' portid='[0-9a-f-]*' bridge='virbr0'/>"
ok $? "the network interface's tap ($ntap) is a port of virbr0, the live XML names its port" || say
vsh net-port-list default
[ "$rc" = 0 ] && [ "$(echo "$out" | grep -c .)" = 1 ]
ok $? "virsh net-port-list default: one port" || say
wait_line "$root/com1.log" "KHVRUN-DHCP" 180
line=$(grep "KHVRUN-DHCP" "$root/com1.log" | head -n 1)
lease=$(echo "$line" | sed -n 's/.* ip=\(192\.168\.122\.[0-9]*\) router=192\.168\.122\.1 ping=ok.*/\1/p')
[ -n "$lease" ]
ok $? "the guest leased an address from dnsmasq (${lease:-none}) and pinged 192.168.122.1" || {
	echo "# ${line:-no KHVRUN-DHCP line}"
	sed 's/^/# com1: /' "$root/com1.log" | tail -n 10
}
vsh net-dhcp-leases default
has "$netmac .*$lease/24"
ok $? "virsh net-dhcp-leases default: the guest's MAC and address" || say
vsh domifaddr l2
has "^ *$ntap *$netmac *ipv4 *$lease/24"
ok $? "virsh domifaddr: $lease from the network's leases" || say
# The host's ARP table, whose entry for the guest a ping from here makes
# (or keeps).
pinged=no
arp_seen() {
	ping -c 1 -W 2 "${lease:-0.0.0.0}" >/dev/null 2>&1 && pinged=yes
	vsh domifaddr l2 --source arp
	has "$netmac *ipv4 *$lease/0"
}
eventually 40 arp_seen
ok $? "virsh domifaddr --source arp: the host's ARP table has it too (the guest answers pings: $pinged)" || {
	say
	ip neigh show dev virbr0 | sed 's/^/# neighbour: /'
}
vsh domifaddr l2 --source agent
[ "$rc" != 0 ] && has "no guest agent"
ok $? "virsh domifaddr --source agent: refused, khv has no guest agent" || say

vsh dominfo l2
has "^State: *running" && has "^CPU(s): *1" && has "^CPU time: *[0-9.]*s"
ok $? "virsh dominfo: running, 1 vCPU, khv-run's CPU time" || say
# The guest holds in its init: its one vCPU waits in HLT (blocked).
vsh domstats l2
has "vcpu.current=1" && has "vcpu.0.state=[12]" && has "cpu.time=" && has "block.count=0" &&
	has "net.0.name=$tap"
ok $? "virsh domstats: real khv-run's vCPU thread and state" || say

# The daemon restarts under a running guest, and finds it again.
stop_daemon && kill -0 "$pid"
ok $? "the daemon stopped; khv-run runs on"
start_virtkhvd
vsh list
echo "$out" | grep -q "^ *$pid *l2 *running"
ok $? "the restarted daemon finds the domain running" || say

# Save and restore (khv_save.c): the guest is written to a file and
# khv-run quits; while it writes, the domain has a job and the daemon
# still answers; restored, the guest answers pings at its address again.
# Then a managed save, which the next start restores.
img=$root/l2.sav
virsh -q -c "$uri" save l2 "$img" >"$root/save.out" 2>&1 &
saver=$!
saw_job() { vsh domjobinfo l2; has "Job type: *Unbounded" && has "Operation: *Save"; }
eventually 30 saw_job
job=$?
vsh list
listed=$rc
[ "$job" = 0 ] && [ "$listed" = 0 ]
ok $? "during virsh save: domjobinfo says a save runs (unbounded), virsh list answers" || say
wait "$saver"
rc=$?
out=$(cat "$root/save.out")
vsh domstate --reason l2
[ "$rc" = 0 ] && has "^shut off (saved)" && [ -s "$img" ] && ! kill -0 "$pid" 2>/dev/null
ok $? "virsh save: shut off (saved), the image written ($(du -k "$img" | cut -f1) KiB), khv-run gone" || say
vsh "restore $img; domstate --reason l2"
pid=$(cat "$state/l2.pid" 2>/dev/null)
[ "$rc" = 0 ] && has "^running (restored)" && kill -0 "$pid" 2>/dev/null
ok $? "virsh restore: running (restored), a new khv-run" || say
pong() { ping -c 1 -W 2 "${lease:-0.0.0.0}" >/dev/null 2>&1; }
eventually 30 pong
ok $? "the restored guest answers pings at $lease (its network as it was)"
vsh "managedsave l2; dominfo l2"
[ "$rc" = 0 ] && has "^Managed save: *yes" && has "^State: *shut off"
ok $? "virsh managedsave: shut off, an image kept" || say
vsh "start l2; domstate --reason l2; dominfo l2"
pid=$(cat "$state/l2.pid" 2>/dev/null)
[ "$rc" = 0 ] && has "^running (restored)" && has "^Managed save: *no"
ok $? "virsh start: restored from the managed save image, which is gone" || say
eventually 30 pong
ok $? "and the guest answers pings again"

# Live migration to a second virtkhvd in this machine, as to another lab
# host: its own driver directories (tmpfs over them in a mount namespace
# of its own) and sockets, reached over TCP (khv+tcp://127.0.0.1:16510);
# libvirtd's network driver is both daemons', as a shared network would
# be.  The guest moves there and back, answering pings at its address.
buri=khv+tcp://127.0.0.1:16510/system
mkdir -p /run/khv-b
printf 'listen_tcp = 1\nlisten_addr = "127.0.0.1"\ntcp_port = "16510"\nauth_tcp = "none"\nunix_sock_dir = "/run/khv-b"\n' \
	>"$root/b.conf"
unshare -m --propagation private sh -c '
	for d in /run/libvirt/khv /etc/libvirt/khv /var/lib/libvirt/khv /var/log/libvirt/khv; do
		mkdir -p "$d" && mount -t tmpfs tmpfs "$d" || exit 1
	done
	exec /khv/libvirt/virtkhvd --config "$1" --pid-file /run/khv-b/virtkhvd.pid' sh "$root/b.conf" >>"$root/daemon-b.log" 2>&1 &
bdaemon=$!
b_up() { virsh -c "$buri" uri >/dev/null 2>&1; }
eventually 30 b_up
ok $? "a second virtkhvd (host b), its own directories, on TCP 16510" ||
	sed 's/^/# daemon b: /' "$root/daemon-b.log"
vsh migrate --live l2 "$buri" --migrateuri tcp:127.0.0.1
bout=$(virsh -q -c "$buri" domstate --reason l2 2>&1)
[ "$rc" = 0 ] && [ "$bout" = "running (migrated)" ]
ok $? "virsh migrate --live l2 to host b: running (migrated) there" || { say; echo "# b: $bout"; }
vsh domstate --reason l2
[ "$rc" = 0 ] && has "^shut off (migrated)" && ! kill -0 "$pid" 2>/dev/null
ok $? "host a: shut off (migrated), its khv-run gone" || say
eventually 30 pong
ok $? "the guest answers pings at $lease from host b's khv-run"
out=$(timeout 300 virsh -q -c "$buri" migrate --live l2 "$uri" --migrateuri tcp:127.0.0.1 2>&1)
rc=$?
pid=$(cat "$state/l2.pid" 2>/dev/null)
vsh domstate --reason l2
[ "$rc" = 0 ] && has "^running (migrated)" && kill -0 "$pid" 2>/dev/null
ok $? "and back to host a: running (migrated)" || say
eventually 30 pong
ok $? "the guest answers pings again"
kill "$bdaemon"
wait "$bdaemon"
! kill -0 "$bdaemon" 2>/dev/null
ok $? "host b's daemon stops"

# The ACPI power button: the guest powers itself off, and the restarted
# daemon (watching khv-run again) sees it end.
vsh "shutdown l2; event --domain l2 --event lifecycle --timeout 120"
[ "$rc" = 0 ] && has "Stopped Shutdown"
ok $? "virsh shutdown: the guest powers off; event stopped/shutdown" || say
vsh domstate --reason l2
[ "$rc" = 0 ] && has "^shut off (shutdown)" && ! kill -0 "$pid" 2>/dev/null
ok $? "shut off (shutdown), khv-run gone" || say

vsh "start l2; destroy l2; domstate --reason l2"
[ "$rc" = 0 ] && has "^shut off (destroyed)"
ok $? "virsh start, destroy: shut off (destroyed)" || say
[ -n "$tap" ] && [ ! -e "/sys/class/net/$tap" ] && [ ! -e "/sys/class/net/$ntap" ]
ok $? "no tap left once khv-run is gone"
vsh net-port-list default
[ "$rc" = 0 ] && [ -z "$out" ]
ok $? "the network's port was given back" || say

# khv-run killed: the daemon marks the domain crashed.
vsh start l2
pid=$(cat "$state/l2.pid" 2>/dev/null)
kill -9 "$pid"
crashed() { vsh domstate --reason l2; [ "$rc" = 0 ] && has "^shut off (crashed)"; }
eventually 20 crashed
ok $? "khv-run killed: shut off (crashed)" || say
vsh net-port-list default
[ "$rc" = 0 ] && [ -z "$out" ]
ok $? "a crash gives the network's port back too" || say

vsh undefine l2
ok "$rc" "virsh undefine" || say

# A qcow2 disk over a raw backing file: QEMU's storage daemon serves it to
# khv-run over NBD; the guest writes its pattern with a flush
# (khvrun=disk); once the guest is gone, the overlay holds the pattern and
# the backing file is untouched.
pattern() {
	i=0
	while [ "$i" -lt 2048 ]; do
		printf 'khvrun disk line %08d\n' "$i"
		i=$((i + 1))
	done
}
pattern >"$root/pattern"
plen=$(wc -c <"$root/pattern")
qemu-img create -q -f raw "$root/base.raw" 8M &&
	qemu-img create -q -f qcow2 -b "$root/base.raw" -F raw "$root/q2.qcow2"
sed -e "s|<name>l2</name>|<name>q2</name>|" -e "s|khvrun=hold|khvrun=disk|" \
	-e "/<interface/,/<\/interface>/d" -e "s| khvdhcp=[^<]*||" \
	-e "s|<devices>|<devices><disk type='file' device='disk'><driver type='qcow2'/><source file='$root/q2.qcow2'/><target dev='vda' bus='virtio'/></disk>|" \
	"$root/vm.xml" >"$root/q2.xml"
vsh "define $root/q2.xml; start q2; dumpxml q2"
pty=$(serial_pty)
[ "$rc" = 0 ] && [ -c "$pty" ] && [ -S "$state/q2-vda.nbd" ]
ok $? "a qcow2 disk: the storage daemon serves it, khv-run runs the guest" || say
(timeout 240 cat "$pty" >"$root/q2.log" 2>&1 &)
wait_line "$root/q2.log" "KHVRUN-DISK-FLUSHED" 240
ok $? "the guest wrote its pattern to /dev/vda and flushed it" ||
	sed 's/^/# com1: /' "$root/q2.log" | tail -n 20
vsh "destroy q2; undefine q2"
[ ! -e "$state/q2-vda.nbd" ] && ! running qemu-storage-daemon >/dev/null
ok $? "destroyed: no storage daemon left" || say
head -c "$plen" /dev/zero >"$root/zeroes"
qemu-img convert -f qcow2 -O raw "$root/q2.qcow2" "$root/q2.raw" &&
	head -c "$plen" "$root/q2.raw" | cmp -s - "$root/pattern" &&
	head -c "$plen" "$root/base.raw" | cmp -s - "$root/zeroes"
ok $? "the overlay holds the guest's pattern, the backing file is unchanged"

ip link del khvlvbr0
vsh "net-destroy default; net-undefine default"
ok "$rc" "virsh net-destroy, net-undefine default" || say
stop_daemon
ok $? "the daemon stops on SIGTERM"
kill "$libvirtd" && wait "$libvirtd"
ok $? "libvirtd stops on SIGTERM"

exit "$fail"
