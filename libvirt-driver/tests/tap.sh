# shellcheck shell=sh disable=SC2034,SC2154 # fail: the sourcing script's; out: its vsh's
# SPDX-License-Identifier: GPL-2.0
# tap.sh: what the driver's shell tests share (sourced; POSIX sh, for
# guest.sh's busybox too).  TAP lines on stdout; $fail is 1 once one
# failed, the script's exit status.
n=0
fail=0

ok() {	# ok <0|1> <description>: prints the line, returns <0|1>
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fail=1
	fi
	return "$1"
}

# On the last command's output ($out, set by each script's vsh):
has() { printf '%s\n' "$out" | grep -q -- "$1"; }	# has <regex>
say() {	# as TAP comments, with the command's exit status
	echo "# exit status ${rc:-?}"
	printf '%s\n' "$out" | sed 's/^/# /'
}

# eventually <seconds> <command...>: the command, again every 0.1 s until
# it succeeds or the time is up (its status then).  For what follows a
# process's end or an event: under make check, emulators share the CPUs
# and "at once" can take a second.
eventually() {
	_until=$(($(date +%s) + $1))
	shift
	while ! "$@"; do
		[ "$(date +%s)" -lt "$_until" ] || return 1
		sleep 0.1
	done
}

# running <text>: the pids of the processes whose command line holds the
# text, one a line; 0 if there is one.  (The test machine's busybox has no
# pgrep or pkill; its command lines are read here without starting a
# process that would hold the text itself.)
running() {
	_found=1
	for _p in /proc/[0-9]*; do
		_c=$(tr '\0' ' ' 2>/dev/null <"$_p/cmdline") || continue
		case $_c in *"$1"*) echo "${_p#/proc/}" && _found=0 ;; esac
	done
	return "$_found"
}

# machine_root <dir>: what libvirt needs in lane khvrun's test machine
# (guest.sh, remote.sh), whose root starts with none of the daemon's
# directories and no user database (libvirt looks root up); <dir> made
# afresh for the test's files.  libvirt's client library looks under
# /var/run, which Debian links to /run.
machine_root() {
	rm -rf "$1"
	mkdir -p "$1" /var/lock /run /var/log /etc
	[ -f /etc/passwd ] || echo "root:x:0:0:root:/root:/bin/sh" >/etc/passwd
	[ -f /etc/group ] || echo "root:x:0:" >/etc/group
	[ -e /var/run ] || ln -s /run /var/run
}

# bridge_modules: tun (taps) and the bridge with what it needs, in load
# order, from the lane's image (scripts/lib.sh khvrun_files); 0 once all
# are in.
bridge_modules() {
	for _m in tun llc stp bridge; do
		[ -d "/sys/module/$_m" ] || insmod "/khv/l2/$_m.ko" || return 1
	done
}

# start_virtkhvd [args...]: virtkhvd in a test machine (guest.sh,
# xmig.sh), its output to $root/daemon.log, its pid in $daemon; 0 once
# virsh reaches it at $uri, 1 if it exits or 30 s pass first.
start_virtkhvd() {
	/khv/libvirt/virtkhvd "$@" >>"$root/daemon.log" 2>&1 &
	daemon=$!
	_i=0
	while [ "$_i" -lt 60 ] && kill -0 "$daemon" 2>/dev/null; do
		virsh -c "$uri" uri >/dev/null 2>&1 && return 0
		sleep 0.5
		_i=$((_i + 1))
	done
	return 1
}

# l2_domain <name> <kernel arguments> <devices>: the domain XML of lane
# khvrun's Linux guest (/khv/l2; its init reports a KHVRUN-INIT line on
# COM1, then does what khvrun= says), 256 MiB, one vCPU, COM1 on a pty,
# no balloon, and the given devices.
l2_domain() {
	cat <<-EOF
	<domain type='kvm'>
	  <name>$1</name>
	  <memory unit='MiB'>256</memory>
	  <vcpu>1</vcpu>
	  <os>
	    <type arch='x86_64'>hvm</type>
	    <kernel>/khv/l2/vmlinuz</kernel>
	    <initrd>/khv/l2/initrd.cpio.gz</initrd>
	    <cmdline>console=ttyS0 panic=-1 cryptomgr.notests loglevel=5 $2</cmdline>
	  </os>
	  <devices>
	    <emulator>/khv/l2/khv-run</emulator>
	$3
	    <serial type='pty'><target port='0'/></serial>
	    <memballoon model='none'/>
	  </devices>
	</domain>
	EOF
}

# serial_pty: COM1's pty, from the live domain XML in $out.
serial_pty() {
	printf '%s\n' "$out" | grep -A1 "<serial type='pty'>" |
		sed -n "s/.*<source path='\([^']*\)'.*/\1/p"
}

# start_libvirtd <log>: libvirtd with only libvirt's storage driver (and
# its directory backend) and network driver, from the lane's image
# (scripts/lib.sh libvirt_files), serving a khv connection's storage and
# network calls.  virtkhvd sends those to the modular daemons' sockets;
# Debian 12 has no virtstoraged or virtnetworkd, and its libvirtd serves
# both on its own socket, which the links give their names (as
# virtkhvd.service does on a lab host).  First the kernel modules of the
# networks and of the network driver's iptables rules, and the user
# dnsmasq runs as.
# $libvirtd: its pid; 0 once both links lead to its socket.
start_libvirtd() {
	# tun for the taps, the bridge for the networks, then netfilter.
	bridge_modules
	while read -r _m; do
		_s=$(echo "${_m%.ko}" | tr - _)
		[ -d "/sys/module/$_s" ] || insmod "/khv/libvirt/nf/$_m" 2>/dev/null
	done </khv/libvirt/nf/order
	grep -q '^nobody:' /etc/passwd ||
		echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >>/etc/passwd
	grep -q '^nogroup:' /etc/group || echo 'nogroup:x:65534:' >>/etc/group
	mkdir -p /var/lib/libvirt/images
	env LIBVIRT_DRIVER_DIR=/khv/libvirtd LIBVIRT_STORAGE_BACKEND_DIR=/khv/libvirtd/storage-backend \
		/usr/sbin/libvirtd >>"$1" 2>&1 &
	libvirtd=$!
	eventually 30 test -S /run/libvirt/libvirt-sock &&
		ln -sf libvirt-sock /run/libvirt/virtstoraged-sock &&
		ln -sf libvirt-sock /run/libvirt/virtnetworkd-sock
}

# The network libvirt's Debian packages define as "default"
# (libvirt-daemon-config-network): NAT from virbr0, DHCP from dnsmasq.
default_network_xml() {
	cat <<-EOF
	<network>
	  <name>default</name>
	  <bridge name='virbr0'/>
	  <forward/>
	  <ip address='192.168.122.1' netmask='255.255.255.0'>
	    <dhcp>
	      <range start='192.168.122.2' end='192.168.122.254'/>
	    </dhcp>
	  </ip>
	</network>
	EOF
}
