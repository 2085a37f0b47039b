#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# xmig.sh: virsh migrate --live between two lab hosts, for real: the two
# test machines of lanes xmigsrc and xmigdst (scripts/check.sh), joined by
# a virtual Ethernet, each with virtkhvd running khv-run.  Installed as
# selftest libvirt-xmig; it runs after khvrun_xmig, on both machines, and
# khvxmig=ROLE,ADDR/LEN,PEER on the kernel command line (KHV_XMIG) says
# which side this one is.  busybox sh; TAP on stdout.
#
# Each machine bridges its NIC (khvxbr0, the address moved there) and is
# known to the other by name (/etc/hosts), as lab hosts are.  The source
# serves DHCP on the shared segment, starts a Linux guest with an
# interface on its bridge, waits for the destination's daemon and
# migrates the guest there by the daemon's URI alone (the destination
# names itself in the migration URI it answers); the guest must then
# answer pings from the source's side of the wire at the same address
# (khv-run's RARP tells the destination's bridge where it now is).  The
# destination serves TCP, sees the domain arrive running (migrated), and
# sees it go when the source's virsh destroys it there.

# shellcheck disable=SC2317 # the functions eventually runs
export LIBVIRT_DRIVER_DIR=/khv/libvirt
root=/tmp/libvirt-xmig
state=/run/libvirt/khv
uri=khv:///system
daemon=

# shellcheck source-path=SCRIPTDIR source=tap.sh
. /khv/libvirt/tap.sh

vsh() {	# vsh <args...>: output in $out, status in $rc
	out=$(timeout 300 virsh -q -c "$uri" "$@" 2>&1)
	rc=$?
}

# KHV_XMIG: src|dst,ADDR/LEN,PEER
IFS=, read -r role addr peer <<EOF
${KHV_XMIG:-}
EOF
case $role in
src) me=khv-xmig-src other=khv-xmig-dst ;;
dst) me=khv-xmig-dst other=khv-xmig-src ;;
*)
	echo "1..0 # SKIP lane: no khvxmig=src|dst,ADDR/LEN,PEER on the kernel command line"
	exit 0
	;;
esac
ip=${addr%/*}
machine_root "$root"

echo "1..$([ "$role" = src ] && echo 12 || echo 6)"

# The segment: the NIC (an e1000) as a port of a bridge that holds the
# address; the names of both hosts.
bridge_modules
[ -d /sys/module/e1000 ] || insmod /khv/libvirt/e1000.ko
eventually 10 test -e /sys/class/net/eth0
ip addr flush dev eth0 && ip link set eth0 up && ip link add khvxbr0 type bridge &&
	ip link set eth0 master khvxbr0 && ip addr add "$addr" dev khvxbr0 && ip link set khvxbr0 up
ok $? "$me: eth0 a port of bridge khvxbr0, which holds $addr"
hostname "$me"
printf '127.0.0.1 localhost\n%s %s\n%s %s\n' "$ip" "$me" "$peer" "$other" >/etc/hosts
echo "hosts: files" >/etc/nsswitch.conf
seen_peer() { ping -c 1 -W 2 "$other" >/dev/null 2>&1; }
eventually 120 seen_peer
ok $? "$me: the other host answers pings by its name ($other)" || {
	echo "Bail out! no other host: nothing to migrate with"
	exit 1
}

if [ "$role" = dst ]; then
	printf 'listen_tcp = 1\nlisten_addr = "%s"\ntcp_port = "16509"\nauth_tcp = "none"\n' "$ip" \
		>"$root/tcp.conf"
	start_virtkhvd --config "$root/tcp.conf"
	ok $? "$me: virtkhvd answers, on TCP 16509 too" ||
		sed 's/^/# daemon: /' "$root/daemon.log"
	arrived() { vsh domstate --reason l2; [ "$rc" = 0 ] && has "^running (migrated)"; }
	eventually 500 arrived
	ok $? "$me: the guest arrived, running (migrated)" || say
	pid=$(cat "$state/l2.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
	ok $? "$me: its khv-run runs ($pid)"
	# The source's virsh ends it here once its checks are done.
	gone() { vsh domstate l2; [ "$rc" != 0 ] && ! kill -0 "$pid" 2>/dev/null; }
	eventually 300 gone
	ok $? "$me: destroyed from the other host: the domain and its khv-run gone" || say
	kill "$daemon" && wait "$daemon"
	exit "$fail"
fi

# The source.  DHCP for the segment, from this host.
dnsmasq --conf-file=/dev/null --port=0 --bind-interfaces --interface=khvxbr0 \
	--except-interface=lo --dhcp-range=10.9.0.100,10.9.0.199,255.255.255.0 \
	--dhcp-leasefile="$root/leases" --pid-file="$root/dnsmasq.pid" --user=root --group=root \
	>"$root/dnsmasq.log" 2>&1
ok $? "$me: dnsmasq serves DHCP on khvxbr0" || sed 's/^/# dnsmasq: /' "$root/dnsmasq.log"
start_virtkhvd
ok $? "$me: virtkhvd answers" || sed 's/^/# daemon: /' "$root/daemon.log"

netmac=52:54:00:6b:68:78
l2_domain l2 "khvrun=hold khvdhcp=$netmac" "    <interface type='bridge'>
      <mac address='$netmac'/>
      <source bridge='khvxbr0'/>
      <model type='virtio'/>
    </interface>" >"$root/vm.xml"
vsh "define $root/vm.xml; start l2; dumpxml l2"
pid=$(cat "$state/l2.pid" 2>/dev/null)
pty=$(serial_pty)
[ "$rc" = 0 ] && [ -c "$pty" ]
ok $? "$me: virsh define, start: khv-run runs the guest ($pid)" || say
(timeout 400 cat "$pty" >"$root/com1.log" 2>&1 &)
dhcp_line() { grep -q "KHVRUN-DHCP" "$root/com1.log"; }
eventually 300 dhcp_line
line=$(grep "KHVRUN-DHCP" "$root/com1.log" | head -n 1)
lease=$(echo "$line" | sed -n 's/.* ip=\(10\.9\.0\.[0-9]*\) router=10\.9\.0\.1 ping=ok.*/\1/p')
[ -n "$lease" ]
ok $? "$me: the guest leased ${lease:-nothing} from this host's dnsmasq and pinged it" || {
	echo "# ${line:-no KHVRUN-DHCP line}"
	sed 's/^/# com1: /' "$root/com1.log" | tail -n 20
}

pong() { ping -c 1 -W 2 "${lease:-0.0.0.0}" >/dev/null 2>&1; }
eventually 30 pong
ok $? "$me: the guest answers pings at ${lease:-nothing} here"

buri=khv+tcp://$other/system
b_up() { virsh -c "$buri" uri >/dev/null 2>&1; }
eventually 300 b_up
ok $? "$me: the other host's virtkhvd answers ($buri)"
vsh migrate --live l2 "$buri"
bout=$(timeout 60 virsh -q -c "$buri" domstate --reason l2 2>&1)
[ "$rc" = 0 ] && [ "$bout" = "running (migrated)" ]
ok $? "$me: virsh migrate --live l2 $buri: running (migrated) there" || {
	say
	echo "# $other: $bout"
}
vsh domstate --reason l2
[ "$rc" = 0 ] && has "^shut off (migrated)" && ! kill -0 "$pid" 2>/dev/null
ok $? "$me: shut off (migrated) here, its khv-run gone" || say
# At once: this host's ARP entry for the guest is fresh (the pings
# above), so its pings go to the guest's MAC, which the other host's
# bridge knows at its wire port until a frame from the guest comes from
# the tap: khv-run's RARP after the migration.  Without it, 15-45 s of
# lost pings until the entry goes stale and ARP asks again.
t0=$(date +%s)
eventually 60 pong
took=$(($(date +%s) - t0))
[ "$took" -le 10 ]
ok $? "$me: the guest answers pings at $lease from the other host, across the wire, after ${took} s"
out=$(timeout 60 virsh -q -c "$buri" destroy l2 2>&1)
rc=$?
ok "$rc" "$me: virsh -c $buri destroy l2" || say

vsh undefine l2
kill "$daemon" && wait "$daemon"
kill "$(cat "$root/dnsmasq.pid")" 2>/dev/null
exit "$fail"
