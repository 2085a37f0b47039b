#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: the whole test lane.
#   deps -> the build (khv.ko for the test kernel, libkhv, selftests,
#   tools), with lint (checkpatch) and the libvirt driver's build beside
#   it -> initramfs images -> three QEMU boots (5-level paging; 4-level
#   with no5lvl; a CPU without SVM and VMX, where insmod must fail) and three
#   Bochs boots (VT-x with one CPU, with two, and a model with PML),
#   started at once; once
#   the libvirt driver is built, the fourth QEMU boot (khv-run's nested
#   guests, virt-manager's remote host) and 4-level's (which also runs
#   the libvirt driver's selftest) -> the host unit tests (libkhv, mmu,
#   vmx, irq, khv-run, libvirt driver) while the lanes run -> verdict.
# Every step adds "ok"/"not ok" lines to build/check/results.txt; the last
# line printed is "check: N passed, M failed" and the exit status is 0 only
# when M is 0.  Logs: build/check/ (see Documentation/khv/testing.rst).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tap.sh"

lane_begin check
t0=$(date +%s)
stamp() { say "== $* ($(($(date +%s) - t0))s)"; }

run_logged() {	# run_logged <log> <command...>: quiet unless it fails
	local log=$1 rc=0
	shift
	"$@" >"$log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || tail -n 40 "$log" | sed 's/^/#   /'
	return "$rc"
}

summary() {	# the verdict, then exit: status 0 only without failures
	local pass fail skip
	pass=$(grep -c '^ok' "$RESULTS")
	fail=$(grep -c '^not ok' "$RESULTS")
	skip=$(grep -c '^ok .*# SKIP' "$RESULTS")
	stamp "done, logs in $OUT"
	if [ "$fail" -ne 0 ]; then
		say "failures:"
		grep '^not ok' "$RESULTS" | sed 's/^/  /'
	fi
	[ "$skip" -ne 0 ] && say "($skip of the passed were skipped)"
	say "check: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

# A QEMU lane's limit: TIMEOUT, but lane khvrun boots about twenty nested
# Linux guests and serves the build machine's virt-manager, 479-524 s beside
# five other emulators since it boots first and the host tests are niced
# (540-610 s before), and 702 s once when the build machine did other work
# beside make check (KHVRUN_TIMEOUT, default 840 s, still below Bochs's
# 900 s; it was 600, then 720 s: a lane gets faster, not a longer limit).
# Lanes 4level and 5level also run a selftest with second-level Linux
# guests each (libvirt, about 90 s after 160 s of selftests, 327-431 s in
# clean runs; khvrun_io, about 180 s): 600 s (LIBVIRT_LANE_TIMEOUT).
lane_timeout() {
	case $1 in
	khvrun) say "${KHVRUN_TIMEOUT:-840}" ;;
	xmigsrc | xmigdst) say "${XMIG_TIMEOUT:-600}" ;;
	4level | 5level) say "${LIBVIRT_LANE_TIMEOUT:-600}" ;;
	*) say "$TIMEOUT" ;;
	esac
}

# khvrun_image <output>: the khvrun lane's initramfs (see the lanes below).
# shellcheck disable=SC2317 # called through run_logged
khvrun_image() {
	local extra tests
	extra=$(mktemp -d)
	tests=$(mktemp)
	khvrun_files "$extra" "$kver" && libvirt_files "$extra" "$kver" ||
		{ rm -rf "$extra" "$tests"; return 1; }
	# The key of khv+ssh:// to the test machine (below).
	mkdir -p "$extra/root/.ssh" && chmod 0700 "$extra/root" "$extra/root/.ssh" &&
		install -m 0600 "$OUT/remote-key.pub" "$extra/root/.ssh/authorized_keys" ||
		{ rm -rf "$extra" "$tests"; return 1; }
	printf '%s\n' khvrun libvirt-remote >"$tests"
	env TESTS_FILE="$tests" INITRAMFS_EXTRA="$extra" TEST_TIMEOUT=1500 \
		bash "$KHV_ROOT/scripts/mkinitramfs.sh" "$1"
	local rc=$?
	rm -rf "$extra" "$tests"
	return "$rc"
}

# xmig_image <output>: the image both machines of lanes xmigsrc and
# xmigdst boot: selftests khvrun_xmig and libvirt-xmig (the driver's
# tests/xmig.sh), with khv-run, its Linux guest and the libvirt files
# (khvrun_files, libvirt_files: virtkhvd, virsh, dnsmasq, the e1000 and
# bridge modules).
# shellcheck disable=SC2317 # called through run_logged
xmig_image() {
	local extra tests
	extra=$(mktemp -d)
	tests=$(mktemp)
	khvrun_files "$extra" "$kver" && libvirt_files "$extra" "$kver" &&
		install -m 0755 "$KHV_ROOT/libvirt-driver/tests/xmig.sh" "$extra/khv/selftests/libvirt-xmig" ||
		{ rm -rf "$extra" "$tests"; return 1; }
	printf '%s\n' khvrun_xmig libvirt-xmig >"$tests"
	env TESTS_FILE="$tests" INITRAMFS_EXTRA="$extra" \
		TEST_TIMEOUTS="khvrun_xmig=570 libvirt-xmig=900" \
		bash "$KHV_ROOT/scripts/mkinitramfs.sh" "$1"
	local rc=$?
	rm -rf "$extra" "$tests"
	return "$rc"
}

# l2_image <output> <tests file>: the initramfs lanes 4level and 5level
# both boot: the selftests every QEMU lane runs, then the two that run
# khv-run with its Linux guest (khvrun_files, libvirt_files): selftest
# libvirt (the driver and virsh; lane 4level) and khvrun_io (the guest's
# devices and migration; lane 5level).  Each lane skips the other's
# (khvskip=).  Both moved there from lane khvrun, which came near its ten
# minutes (644 s once): 70-90 s and about 180 s of lanes that used under
# three minutes.
# shellcheck disable=SC2317 # called through run_logged
l2_image() {
	local extra
	extra=$(mktemp -d)
	khvrun_files "$extra" "$kver" && libvirt_files "$extra" "$kver" ||
		{ rm -rf "$extra"; return 1; }
	env TESTS_FILE="$2" INITRAMFS_EXTRA="$extra" TEST_TIMEOUTS="libvirt=900 khvrun_io=900" \
		bash "$KHV_ROOT/scripts/mkinitramfs.sh" "$1"
	local rc=$?
	rm -rf "$extra"
	return "$rc"
}

stamp "deps"
if ! bash "$KHV_ROOT/scripts/deps.sh"; then
	result 1 "deps: could not install the packages the lane needs"
	summary
fi
kver=$(test_kver)
if [ -z "$kver" ]; then
	result 1 "deps: no /boot/vmlinuz-*-amd64 (apt-get install linux-image-amd64)"
	summary
fi
kdir=$(test_kdir "$kver")
say "test kernel: $kver ($kdir), accel: $ACCEL"

# Lint runs beside the build: it is mostly one xz stream (the first time)
# and perl, while the build is mostly gcc.
stamp "lint and build"
bash "$KHV_ROOT/scripts/lint.sh" >"$OUT/lint.log" 2>&1 &
lint_pid=$!
# The libvirt driver beside them too: its first build fetches and
# configures libvirt's source (about 30 s, mostly meson), then compiles
# the module and its sanitized twin.
make -C "$KHV_ROOT/libvirt-driver" all build/sanitize/libvirt_driver_khv.so \
	>"$OUT/build-libvirt-driver.log" 2>&1 &
lvd_pid=$!

# shellcheck disable=SC2317 # called through run_logged
make_in_repo() { make -C "$KHV_ROOT" -j"$JOBS" "$@"; }
module_ok=0
if run_logged "$OUT/build-module.log" make_in_repo module KDIR="$kdir"; then
	module_ok=1
	result 0 "build: khv.ko for $kver"
	warn=$(grep -a -i -E '(^|[^[:alnum:]_])warning:' "$OUT/build-module.log")
	if [ -z "$warn" ]; then
		result 0 "build: khv.ko without W=1 warnings"
	else
		result 1 "build: khv.ko without W=1 warnings"
		printf '%s\n' "$warn" | sed 's/^/#   /'
	fi
	vermagic=$(modinfo -F vermagic "$KHV_ROOT/khv.ko" 2>/dev/null | awk '{ print $1 }')
	if [ "$vermagic" != "$kver" ]; then
		result 1 "build: khv.ko vermagic '$vermagic' is not $kver"
		module_ok=0
	fi
else
	result 1 "build: khv.ko for $kver"
fi
for part in libkhv selftests tools; do
	run_logged "$OUT/build-$part.log" make_in_repo "$part"
	result $? "build: $part"
done

# The selftests the guest must run, as the host sees them.
selftest_list >"$OUT/tests.txt"
say "selftests: $(wc -l <"$OUT/tests.txt") ($(tr '\n' ' ' <"$OUT/tests.txt"))"

# One boot per lane: name:paging:khvmode:cpu:kernel arguments.  Lane nosvm
# boots the same image on the same CPU minus SVM and VMX: khv must refuse
# to load (ENODEV) and say why in one line.  min-xlevel: without SVM, QEMU
# lowers the CPU's highest extended CPUID leaf below 0x80000008, the kernel
# then assumes 48 virtual address bits while running 5-level paging, and
# d_path() turns every path into "xxxx" (busybox then aborts).
# numa=fake=2: the kernel splits the lane's memory into two NUMA nodes, so
# that selftest migrate can move guest memory from one node to the other.
# Automatic NUMA balancing, which the second node would switch on, stays
# off: it would unmap and migrate every test's memory now and then, at
# moments no test chooses.  CHECK_NUMA= boots a single node.
cpu=${QEMU_CPU:-max}
numa=${CHECK_NUMA-numa=fake=2 numa_balancing=disable}
lanes=("5level:5:check:$cpu:$numa khvskip=libvirt" "4level:4:check:$cpu:no5lvl $numa khvskip=khvrun_io"
	"nosvm:any:refuse:$cpu,-svm,-vmx,min-xlevel=0x80000008:")
# Lane vmx boots the same image in Bochs (cpu "bochs"), whose CPU has VT-x
# with EPT and no LA57 (Documentation/khv/bochs.rst); VMX_LANE=0 skips it.
# Lane vmxsmp (cpu "bochs2": two CPUs, which makes Bochs about 2.5 times
# slower) runs only what needs a second CPU, and must not skip it; lane
# vmxpml (cpu "bochs1@corei7_skylake_x": another CPU model) only PML.
# idle=halt: with MWAIT idle, one run in three had CPU offline wait 30 s
# for an idle CPU 1 (Documentation/khv/bochs.rst).
# Lane khvrun boots an image of its own: khv-run, the test kernel and a
# busybox initramfs for the second-level guests of selftest khvrun, which
# no other lane runs (a nested Linux boot per test; too slow for Bochs).
# (Selftest libvirt, virsh and the libvirt driver running khv-run,
# libvirt-driver/tests/guest.sh, runs in lane 4level, and khvrun_io, the
# second-level guest's devices and migration, in lane 5level: l2_image.)
# KHVRUN_LANE=0 skips it.
# Its test machine is also a remote lab host for virt-manager on this
# machine (selftest libvirt-remote, libvirt-driver/tests/remote.sh, and
# host/virt-manager-remote, tests/virt-manager-remote.sh): QEMU's user
# network forwards three ports of this machine to it: its virtkhvd's TCP
# port, its SSH server's (khv+ssh://, with a key made for the run) and the
# VNC port (khvremote=) of the VM it serves.  The URI names this machine
# by its host name, and the ports listen on the address that name resolves
# to (a loopback address on most machines: 127.0.1.1 on Debian's):
# virt-manager will not open a VNC console on a remote connection whose
# host is a loopback address written as such (it takes the VM for
# unreachable; "localhost" counts as one, and gtk-vnc does not resolve
# the shorthand "127.1").  A host name that does not resolve: this
# machine's first IPv4 address.  Where that address is not a loopback one,
# the machine's network reaches the test machine's daemon (no
# authentication) for the few minutes of the test: it can do no more
# than the test does, inside the emulator.
if [ "${KHVRUN_LANE:-1}" = 1 ]; then
	remote_host=$(hostname)
	remote_addr=$(getent ahostsv4 "$remote_host" 2>/dev/null | awk 'NR == 1 { print $1 }')
	if [ -z "$remote_addr" ]; then
		remote_addr=$(hostname -I | tr ' ' '\n' | grep -m1 -E '^[0-9]+(\.[0-9]+){3}$')
		remote_host=$remote_addr
	fi
	# No address at all: the loopback (never every address), on which
	# the graphical console's steps will fail, saying so.
	if [ -z "$remote_addr" ]; then
		remote_addr=127.0.0.1 remote_host=127.0.0.1
	fi
	remote_lv=$(free_port 20000 60000)
	remote_ssh=$(free_port 20000 60000)
	remote_vnc=$(free_port 5900 5999)
	remote_uri=khv+tcp://$remote_host:$remote_lv/system
	remote_nic="-nic user,model=e1000,hostfwd=tcp:$remote_addr:$remote_lv-:16509"
	remote_nic+=",hostfwd=tcp:$remote_addr:$remote_ssh-:22"
	remote_nic+=",hostfwd=tcp:$remote_addr:$remote_vnc-:$remote_vnc"
	# khv+ssh:// too: root's key in the test machine is this one.
	rm -f "$OUT/remote-key" "$OUT/remote-key.pub"
	ssh-keygen -q -t ed25519 -N "" -C khv-check -f "$OUT/remote-key"
	lanes+=("khvrun:5:check:$cpu:khvtests=khvrun,libvirt-remote khvremote=$remote_vnc")
fi
# Lanes xmigsrc and xmigdst: two test machines joined by a virtual
# Ethernet (each QEMU's e1000 on a UDP socket to the other's): selftest
# khvrun_xmig migrates a guest from one's khv-run to the other's, then
# libvirt-xmig a Linux guest from one's virtkhvd to the other's (virsh
# migrate --live).  They differ as two hosts do: 5-level and 4-level
# paging, and the destination boots 20 s later (XMIG_DELAY), so that its
# TSC is behind the source's (QEMU's TSC counts from the machine's
# start).  XMIG_LANE=0 skips them.
if [ "${XMIG_LANE:-1}" = 1 ]; then
	xmig_a=$(free_port 20000 60000 udp)
	for _ in 1 2 3; do
		xmig_b=$(free_port 20000 60000 udp)
		[ "$xmig_b" != "$xmig_a" ] && break
	done
	xmig_net() {	# xmig_net <local port> <remote port> <MAC's last byte>
		say "-netdev socket,id=xmig,udp=127.0.0.1:$2,localaddr=127.0.0.1:$1" \
			"-device e1000,netdev=xmig,mac=52:54:00:4b:48:$3"
	}
	lanes+=("xmigsrc:5:check:$cpu:khvtests=khvrun_xmig,libvirt-xmig khvxmig=src,10.9.0.1/24,10.9.0.2")
	lanes+=("xmigdst:4:check:$cpu:no5lvl khvtests=khvrun_xmig,libvirt-xmig khvxmig=dst,10.9.0.2/24,10.9.0.1")
fi
if [ "${VMX_LANE:-1}" = 1 ]; then
	# No fake NUMA here: with one CPU, the second node has none, and the
	# kernel warns at boot (workqueue cpumask); migrate runs in QEMU.
	# Selftest fuzz does 10000 operations there, half the QEMU lanes'
	# (khvfuzz=,N): its 20000 were 10 of the lane's 80 guest seconds, and
	# the lane came to its ten minutes (599-641 s) in session 25.
	lanes+=("vmx:4:check:bochs:khvfuzz=,10000")
	lanes+=("vmxsmp:4:check:bochs2:khvtests=${VMX_SMP_TESTS:-hotplug,smp,irqsmp} idle=halt")
	# Lane vmxpml: the dirty log by VT-x's page-modification log, which
	# broadwell_ult lacks; corei7_skylake_x has it.  clearcpuid: its
	# AVX-512 XSAVE sizes make the kernel warn at boot, and Bochs 2.7's
	# compacted XSAVE format (XSAVEC, XSAVES) puts AVX state over the
	# XSAVE header, which the next XRSTOR refuses (fixed after 2.7;
	# Documentation/khv/bochs.rst): the lane keeps the FPU as
	# broadwell_ult's.  tsc_early_khz:
	# the model's CPUID says 3.5 GHz, its TSC counts 200 MHz (ips), and
	# guest time ran 17 times slow (613 s for the lane, 78 s with it).
	# Only dirty_log's pml mode runs (the others run in lane vmx).
	lanes+=("vmxpml:4:check:bochs1@corei7_skylake_x:khvtests=dirty_log khvdirtylog=pml clearcpuid=avx512f,xsaves,xsavec tsc_early_khz=200000")
fi

# A Bochs lane's cpu field: bochs<CPUs>[@<model>] (model: BOCHS_CPU's default).
bochs_smp() { local c=${1#bochs}; say "${c%@*}"; }
bochs_model() {
	case $1 in
	*@*) say "${1#*@}" ;;
	*) say "${BOCHS_CPU:-broadwell_ult}" ;;
	esac
}

# start_lane <lane>: boot it in the background (pid in lane_pid[name]).
declare -A lane_pid
start_lane() {
	local name mode lcpu args img thread run extra delay=0
	IFS=: read -r name _ mode lcpu args <<<"$1"
	if [ "${lcpu#bochs}" != "$lcpu" ]; then
		run=(env BOCHS_SMP="$(bochs_smp "$lcpu")" BOCHS_CPU="$(bochs_model "$lcpu")" \
			bash "$KHV_ROOT/scripts/bochs-run.sh")
	else
		# One host thread for the vCPUs: QEMU 7.2's multi-threaded
		# TCG now and then keeps running code another vCPU rewrote,
		# and the kernel's text patching for `rmmod khv` then hangs
		# the lane (testing.rst, "Emulator gaps").  KHVRUN_THREAD=
		# multi runs lane khvrun multi-threaded.
		thread=single
		[ "$name" = khvrun ] && thread=${KHVRUN_THREAD:-single}
		extra=
		[ "$name" = khvrun ] && extra=$remote_nic
		[ "$name" = xmigsrc ] && extra=$(xmig_net "$xmig_a" "$xmig_b" 01)
		[ "$name" = xmigdst ] && extra=$(xmig_net "$xmig_b" "$xmig_a" 02) delay=${XMIG_DELAY:-20}
		run=(env QEMU_CPU="$lcpu" TIMEOUT="$(lane_timeout "$name")" QEMU_EXTRA="$extra" \
			QEMU_TCG_THREAD="$thread" bash "$KHV_ROOT/scripts/qemu-run.sh")
	fi
	img=$OUT/initramfs.cpio.gz
	[ -f "$OUT/initramfs-$name.cpio.gz" ] && img=$OUT/initramfs-$name.cpio.gz
	case $name in
	4level | 5level) img=$OUT/initramfs-l2.cpio.gz ;;
	xmigsrc | xmigdst) img=$OUT/initramfs-xmig.cpio.gz ;;
	esac
	# The lane's wall and CPU seconds (its emulator's, reaped by
	# timeout): nine emulators share the cores, so CPU is what a lane
	# costs the others.
	# shellcheck disable=SC2086 # $args: zero or more kernel arguments
	(
		sleep "$delay"
		TIMEFORMAT="%R %U %S"
		time "${run[@]}" "$img" "$OUT/$name.log" khvmode="$mode" $args
	) 2>"$OUT/$name.time" &
	lane_pid[$name]=$!
}

# The lanes boot as soon as their images exist, and the rest of the work
# (the libvirt driver's build, lint, the host unit tests) runs beside
# them: the emulators are most of make check's CPU time, and the Bochs
# lanes the longest of it.
if [ "$module_ok" = 1 ]; then
	stamp "initramfs"
	# A listed selftest that did not build is left out of the image; the
	# verdict then reports it as not run.
	built=$OUT/tests-built.txt
	: >"$built"
	while read -r t; do
		if [ -n "$(selftest_path "$t")" ]; then
			say "$t" >>"$built"
		else
			say "# selftest $t is listed but not built"
		fi
	done <"$OUT/tests.txt"
	if ! run_logged "$OUT/initramfs.log" \
		env TESTS_FILE="$built" bash "$KHV_ROOT/scripts/mkinitramfs.sh" "$OUT/initramfs.cpio.gz"; then
		result 1 "initramfs"
		module_ok=0
	fi
fi
if [ "$module_ok" = 1 ]; then
	# A lane that runs a few tests (khvtests=, listed in tests-<lane>.txt
	# for its verdict) boots an image of just those: the kernel unpacks
	# the whole image before /init, and in lane vmxsmp's two-CPU Bochs
	# that was seconds of a 20 s boot.  Lane khvrun has its own (below),
	# lanes xmigsrc and xmigdst theirs (xmig_image).
	for l in "${lanes[@]}"; do
		IFS=: read -r name _ _ _ args <<<"$l"
		case " $args " in *" khvtests="*) ;; *) continue ;; esac
		sed -n 's/.*khvtests=\([^ ]*\).*/\1/p' <<<"$args" | tr ',' '\n' >"$OUT/tests-$name.txt"
		case $name in khvrun | xmigsrc | xmigdst) continue ;; esac
		grep -xFf "$built" "$OUT/tests-$name.txt" >"$OUT/tests-$name-built.txt"
		if ! run_logged "$OUT/initramfs-$name.log" env TESTS_FILE="$OUT/tests-$name-built.txt" \
			bash "$KHV_ROOT/scripts/mkinitramfs.sh" "$OUT/initramfs-$name.cpio.gz"; then
			result 1 "initramfs: $name lane"
		fi
	done
fi

lvd_rc=0
wait "$lvd_pid" || lvd_rc=$?
result "$lvd_rc" "build: libvirt-driver (libvirt_driver_khv.so)"
[ "$lvd_rc" = 0 ] || tail -n 40 "$OUT/build-libvirt-driver.log" | sed 's/^/#   /'

# Lane khvrun, the longest (one emulator thread, busy all along), boots
# first: its image (it needs the libvirt driver, for selftest libvirt)
# built while the cores are still free, it took 70 s beside five booting
# emulators.  The other lanes start after it.
if [ "$module_ok" = 1 ]; then
	stamp "boot ${#lanes[@]} lanes in parallel (timeout ${TIMEOUT}s each, khvrun $(lane_timeout khvrun)s, 4level and 5level $(lane_timeout 4level)s, Bochs ${BOCHS_TIMEOUT:-900}s)"
fi
if [ "$module_ok" = 1 ] && [ "${KHVRUN_LANE:-1}" = 1 ]; then
	stamp "initramfs: khvrun lane"
	run_logged "$OUT/initramfs-khvrun.log" khvrun_image "$OUT/initramfs-khvrun.cpio.gz" ||
		result 1 "initramfs: khvrun lane"
	for l in "${lanes[@]}"; do
		[ "${l%%:*}" != khvrun ] || start_lane "$l"
	done
	# virt-manager here, once the test machine serves its VM.
	bash "$KHV_ROOT/libvirt-driver/tests/virt-manager-remote.sh" "$OUT/khvrun.log" \
		"${lane_pid[khvrun]}" "$remote_uri" "$OUT/virt-manager-remote.png" \
		"khv+ssh://root@$remote_host:$remote_ssh/system" "$OUT/remote-key" \
		>"$OUT/unit-virt-manager-remote.log" 2>&1 &
	remote_pid=$!
fi
if [ "$module_ok" = 1 ]; then
	for l in "${lanes[@]}"; do
		case ${l%%:*} in khvrun | 4level | 5level | xmigsrc | xmigdst) ;; *) start_lane "$l" ;; esac
	done
	# Lanes 4level and 5level last: their image (with selftests libvirt
	# and khvrun_io) is built while the others boot, and they are the
	# shortest.  A lane is judged on the tests it runs (expected lists).
	stamp "initramfs: 4level and 5level lanes (with selftests libvirt and khvrun_io)"
	{ cat "$OUT/tests-built.txt"; say libvirt; } >"$OUT/tests-4level-expected.txt"
	{ cat "$OUT/tests-built.txt"; say khvrun_io; } >"$OUT/tests-5level-expected.txt"
	{ cat "$OUT/tests-built.txt"; say libvirt; say khvrun_io; } >"$OUT/tests-l2.txt"
	run_logged "$OUT/initramfs-l2.log" l2_image "$OUT/initramfs-l2.cpio.gz" \
		"$OUT/tests-l2.txt" || result 1 "initramfs: 4level and 5level lanes"
	for l in "${lanes[@]}"; do
		case ${l%%:*} in 4level | 5level) start_lane "$l" ;; esac
	done
	# Lanes xmigsrc and xmigdst last (their image needs the libvirt
	# driver too), the destination 20 s after the source.
	if [ "${XMIG_LANE:-1}" = 1 ]; then
		stamp "initramfs: xmigsrc and xmigdst lanes"
		if run_logged "$OUT/initramfs-xmig.log" xmig_image "$OUT/initramfs-xmig.cpio.gz"; then
			for l in "${lanes[@]}"; do
				case ${l%%:*} in xmigsrc | xmigdst) start_lane "$l" ;; esac
			done
		else
			result 1 "initramfs: xmigsrc and xmigdst lanes"
		fi
	fi
fi

lint_rc=0
wait "$lint_pid" || lint_rc=$?
result "$lint_rc" "lint: checkpatch on kernel sources"
[ "$lint_rc" = 0 ] || tail -n 60 "$OUT/lint.log" | sed 's/^/#   /'

# Unit tests on the host, name:directory:target: libkhv, and the kernel
# sources that run in userspace over simulated kernels: the second-level
# MMU (NPT and EPT, 4 and 5 levels), the VT-x capability probe (every
# refusal a real CPU cannot be made to show) and the irq/ device models.
# libvirt-driver: virsh and the API against the driver in embedded mode;
# libvirt-saveimage: the save image parser's fuzz corpus under ASan/UBSan;
# libvirt-lifecycle: running domains, khv-run played by a fake;
# libvirt-migration: virsh migrate between two virtkhvd, khv-run faked;
# libvirt-daemon: virtkhvd, virsh through it.  install: make install and
# uninstall into a staging directory, make deb (last: it rebuilds the
# driver the libvirt tests load).  virt-manager: stock virt-manager's UI
# against a fake khv-run (tests/virt-manager.sh), for its Migrate between
# two daemons; the UI against a real khv VM is host/virt-manager-remote
# below, against lane khvrun's test machine.  Last but install, once the
# lanes are mostly done: a UI test times its steps, and beside six
# emulators on two cores it missed them (and made lane vmx 40 s longer).
for u in libkhv:lib/userspace:check mmu:mmu/selftest:run vmx:vmx/selftest:run \
	irq:irq/selftest:run khv-run:tools/khv-run:check khv-top:tools/khv-top:check \
	khv-trace:tools/khv-trace:check \
	libvirt-driver:libvirt-driver:check \
	libvirt-driver-asan:libvirt-driver:check-sanitized \
	libvirt-saveimage:libvirt-driver:check-corpus \
	libvirt-xml2argv:libvirt-driver:check-xml2argv \
	libvirt-lifecycle:libvirt-driver:check-lifecycle \
	libvirt-lifecycle-asan:libvirt-driver:check-lifecycle-sanitized \
	libvirt-migration:libvirt-driver:check-migration \
	libvirt-daemon:libvirt-driver:check-daemon \
	virt-manager:libvirt-driver:check-virt-manager install:.:check-install; do
	IFS=: read -r h dir target <<<"$u"
	stamp "$h unit tests (host)"
	rc=0
	# nice: the lanes, which have time limits and are make check's
	# critical path, come first on the cores; these tests have neither.
	nice -n 10 make -C "$KHV_ROOT/$dir" "$target" >"$OUT/unit-$h.log" 2>&1 || rc=$?
	res=$(tap_results "host/$h" "$rc" "$OUT/unit-$h.log")
	say "$res" | tee -a "$RESULTS"
	grep -q '^not ok' <<<"$res" && tail -n 60 "$OUT/unit-$h.log" | sed 's/^/#   /'
done

if [ "$module_ok" = 1 ]; then
	for l in "${lanes[@]}"; do
		IFS=: read -r name depth mode lcpu args <<<"$l"
		qrc=0
		wait "${lane_pid[$name]}" || qrc=$?
		cost=$(awk 'NF == 3 { printf "%.0f s, CPU %.0f s", $1, $2 + $3 }' "$OUT/$name.time")
		if [ "${lcpu#bochs}" != "$lcpu" ]; then
			stamp "lane $name (Bochs $(bochs_model "$lcpu")${args:+, $args}): Bochs exit status $qrc${cost:+, $cost}"
			ltimeout=${BOCHS_TIMEOUT:-900}
		else
			stamp "lane $name (-cpu $lcpu${args:+, $args}): QEMU exit status $qrc${cost:+, $cost}"
			ltimeout=$(lane_timeout "$name")
		fi
		# khvtests=: the lane runs (and is judged on) those tests only,
		# none of which may skip.
		ltests=$OUT/tests.txt noskip=0
		if [ -f "$OUT/tests-$name.txt" ]; then
			ltests=$OUT/tests-$name.txt noskip=1
		elif [ -f "$OUT/tests-$name-expected.txt" ]; then
			ltests=$OUT/tests-$name-expected.txt	# more than tests.txt
		fi
		NO_SKIP=$noskip TIMEOUT=$ltimeout bash "$KHV_ROOT/scripts/check-log.sh" "$name" \
			"$OUT/$name.log" "$qrc" "$mode" "$depth" "$ltests"
	done
	if [ -n "${remote_pid:-}" ]; then
		rc=0
		wait "$remote_pid" || rc=$?
		stamp "virt-manager on lane khvrun's test machine ($remote_uri)"
		res=$(tap_results "host/virt-manager-remote" "$rc" "$OUT/unit-virt-manager-remote.log")
		say "$res" | tee -a "$RESULTS"
		grep -q '^not ok' <<<"$res" && tail -n 60 "$OUT/unit-virt-manager-remote.log" | sed 's/^/#   /'
	fi
else
	for l in "${lanes[@]}"; do
		result 1 "${l%%:*}: not booted (no khv.ko or initramfs)"
	done
fi
summary
