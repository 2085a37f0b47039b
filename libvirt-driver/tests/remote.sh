#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# remote.sh: lane khvrun's test machine as a lab host that a remote
# virt-manager manages (selftest libvirt-remote; its other half,
# tests/virt-manager-remote.sh, runs on the build machine).  The system
# virtkhvd listens on TCP port 16509 with no authentication, and dropbear
# on port 22 for khv+ssh://, which QEMU's user network forwards from the
# build machine's loopback (scripts/check.sh chooses the ports and puts
# the VNC one on the kernel command line, khvremote=PORT).  One VM is
# defined, "lab": lane khvrun's Linux guest (its vmlinux, which khv-run
# boots by PVH: no decompressor to wait for), which draws an orange band
# on its screen and turns it green once a line is typed on its keyboard
# (tests/guest/init, khvrun=vnc), its VNC display on PORT of every address,
# and takes an address on libvirt's default network (khvdhcp=).  Then the
# build machine's virt-manager starts it, watches its screen, types into
# it, reads its serial console and its address, shuts it down, and looks
# at the networks and storage pools; its last step undefines "lab", which
# ends this test.
# busybox sh; TAP on stdout.

export LIBVIRT_DRIVER_DIR=/khv/libvirt
root=/tmp/libvirt-remote
uri=khv:///system
daemon=
# How long the build machine may take: its virt-manager starts under the
# load of five emulators, and the guests boot nested in this one.  And how
# long it may leave the daemon's TCP port without a client before it is
# taken for gone (its virt-manager holds a connection from its start to
# its end, virsh and virt-install one for each call): a build machine's
# half that died must not keep the lane past its limit.
wait_host=${KHV_REMOTE_WAIT:-480}
wait_idle=${KHV_REMOTE_IDLE:-150}

# shellcheck source-path=SCRIPTDIR source=tap.sh
. /khv/libvirt/tap.sh
machine_root "$root"

vsh() {	# vsh <args...>: output in $out, status in $rc
	out=$(timeout 120 virsh -q -c "$uri" "$@" 2>&1)
	rc=$?
}

vncport=
for arg in $(cat /proc/cmdline); do
	case $arg in khvremote=*) vncport=${arg#khvremote=} ;; esac
done

echo "1..10"
if [ -z "$vncport" ]; then
	# Booted without the build machine's half (a lane run by hand).
	echo "Bail out! no khvremote=PORT on the kernel command line"
	exit 1
fi

# The network QEMU's user mode gives: the machine is 10.0.2.15, the
# forwarded ports arrive there.  An e1000, the simplest NIC Debian's
# kernel drives (the module is in the lane's image, libvirt_files).
[ -d /sys/module/e1000 ] || insmod /khv/libvirt/e1000.ko
i=0
while [ ! -e /sys/class/net/eth0 ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0
ok $? "eth0 as 10.0.2.15, QEMU's user network"

# khv+ssh://: dropbear on port 22 (its host key made at start), root's
# key from the build machine in the image (scripts/check.sh); libvirt's
# ssh transport runs virt-ssh-helper here, which connects to the daemon's
# local socket.
mkdir -p /etc/dropbear
chmod 0700 /root /root/.ssh 2>/dev/null
dropbear -R -E -p 22 -P "$root/dropbear.pid" 2>>"$root/dropbear.log"
# TCP 22 (0x0016) in state LISTEN.
sshd_up() { grep -q ':0016 [0-9A-F:]* 0A ' /proc/net/tcp; }
eventually 20 sshd_up && [ -s /root/.ssh/authorized_keys ] && command -v virt-ssh-helper >/dev/null
ok $? "dropbear listens on port 22, with root's key and virt-ssh-helper" ||
	sed 's/^/# dropbear: /' "$root/dropbear.log"

# khv-run where make install puts it, the driver's emulator for a VM that
# names none (virt-install's).
mkdir -p /usr/local/bin && ln -sf /khv/l2/khv-run /usr/local/bin/khv-run

# Storage pools and networks: libvirtd with libvirt's storage and network
# drivers, which virtkhvd reaches for them (tap.sh).
start_libvirtd "$root/libvirtd.log"
ok $? "libvirtd serves the storage and network drivers" ||
	sed 's/^/# libvirtd: /' "$root/libvirtd.log"

printf 'listen_tcp = 1\nlisten_addr = "0.0.0.0"\ntcp_port = "16509"\nauth_tcp = "none"\n' \
	>"$root/virtkhvd.conf"
/khv/libvirt/virtkhvd --config "$root/virtkhvd.conf" >>"$root/daemon.log" 2>&1 &
daemon=$!
up() { virsh -c "$uri" uri >/dev/null 2>&1; }
# TCP 16509 (0x407D) in state LISTEN (0A).
listening() { grep -q ':407D [0-9A-F:]* 0A ' /proc/net/tcp; }
eventually 30 up && listening
ok $? "virtkhvd answers on khv:///system and listens on TCP 16509" || {
	sed 's/^/# daemon: /' "$root/daemon.log"
	echo "Bail out! no daemon"
	exit 1
}

cat >"$root/lab.xml" <<EOF
<domain type='kvm'>
  <name>lab</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/khv/l2/vmlinux</kernel>
    <initrd>/khv/l2/initrd.cpio.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 cryptomgr.notests quiet loglevel=1 khvrun=vnc khvdhcp=52:54:00:6b:68:78</cmdline>
  </os>
  <devices>
    <emulator>/khv/l2/khv-run</emulator>
    <interface type='network'>
      <mac address='52:54:00:6b:68:78'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><target port='0'/></serial>
    <graphics type='vnc' port='$vncport' autoport='no' listen='0.0.0.0'/>
    <video><model type='bochs'/></video>
    <input type='tablet' bus='usb'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF
# The default network, for virt-manager's network page and lab's NIC.
default_network_xml >"$root/default-net.xml"
vsh "net-define $root/default-net.xml; net-start default"
ok "$rc" "the default network started (virbr0, dnsmasq)" || say
vsh define "$root/lab.xml"
[ "$rc" = 0 ] && [ -e /etc/libvirt/khv/lab.xml ]
ok $? "virsh define lab (VNC on 0.0.0.0:$vncport; its config in /etc/libvirt/khv)" || say

# The build machine's half starts on this line (scripts/check.sh).
echo "KHV-REMOTE-READY libvirt=10.0.2.15:16509 vnc=$vncport"
# Polled without virsh, whose start costs this emulator's CPU that the
# nested guests want: lab's persistent config, and a connection
# ESTABLISHED (01) to TCP 16509 (0x407D) in /proc/net/tcp.
# Seconds by the clock: a turn of this loop takes more than its sleep
# while a nested guest runs.
start=$(date +%s)
seen=$start now=$start
while [ -e /etc/libvirt/khv/lab.xml ] && [ $((now - start)) -lt "$wait_host" ] &&
	[ $((now - seen)) -lt "$wait_idle" ]; do
	grep -q ':407D [0-9A-F]*:[0-9A-F]* 01 ' /proc/net/tcp && seen=$now
	sleep 1
	now=$(date +%s)
done
[ ! -e /etc/libvirt/khv/lab.xml ]
ok $? "the build machine's virt-manager test ran to its end (it undefines lab; $((now - start)) s)" || {
	echo "# no client for $((now - seen)) s"
	vsh list --all
	say
}
vsh domstate --reason lab
echo "# lab's last state here: ${out:-(undefined)}"
# Whatever it left: no khv-run.
for p in $(running /khv/l2/khv-run); do kill "$p"; done
kill "$daemon" && wait "$daemon"
ok $? "the daemon stops on SIGTERM"
kill "$libvirtd" && wait "$libvirtd"
ok $? "libvirtd stops on SIGTERM"
grep -c 'Pubkey auth succeeded' "$root/dropbear.log" | sed 's/^/# ssh logins: /'
kill "$(cat "$root/dropbear.pid")"
ok $? "dropbear stops"
ip link set eth0 down
exit "$fail"
