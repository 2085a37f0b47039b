#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /khv/run of the test machine that scripts/profile.sh boots (khvmode=run,
# nokaslr): prints the kernel's text symbols once, then per backend starts
# a long khv-bench loop, prints the backend's module symbols and
# "PROFILE-READY <backend>", and waits for the host's "go" on ttyS1 (the
# host single-steps meanwhile) before it stops the loop.
B=/khv/bench
BACKENDS="khv kvm"
LOOP=msi
KVM_MODULES=
# shellcheck disable=SC1091 # written by scripts/profile.sh
. $B/config

stty -F /dev/ttyS1 raw -echo

echo "KALLSYMS-BEGIN"
awk '$2 ~ /^[tTwW]$/ && NF == 3 { print $1, $3 }' /proc/kallsyms | gzip | base64
echo "KALLSYMS-END"

loaded() { grep -q "^$1 " /proc/modules; }

one() {	# one <backend> <module names as in /proc/kallsyms, a|b>
	$B/khv-bench --backend="$1" --loop="$LOOP" --"$LOOP"-iters=100000000 --runs=1 \
		>/tmp/bench.out 2>&1 &
	p=$!
	sleep 1
	if ! kill -0 $p 2>/dev/null; then
		echo "PROFILE-FAILED $1: $(cat /tmp/bench.out)"
		return
	fi
	grep -E "\[($2)\]" /proc/kallsyms | awk -v b="$1" '$2 ~ /^[tTwW]$/ { print "KSYM", b, $1, $3 }'
	echo "PROFILE-READY $1"
	head -c 3 /dev/ttyS1 >/dev/null
	kill $p
	wait $p
	echo "PROFILE-DONE $1"
}

for b in $BACKENDS; do
	case $b in
	khv) one khv khv ;;
	kvm)
		loaded khv && rmmod khv
		for m in $KVM_MODULES; do
			insmod "$B/kmod/$m" || echo "PROFILE-FAILED kvm: insmod $m"
		done
		one kvm 'kvm|kvm_amd'
		;;
	esac
done
exit 0
