#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Pack the test guest's initramfs:
#   /init               scripts/guest-init.sh
#   /bin/busybox        busybox-static (applets installed by /init)
#   /khv/khv.ko         the module ($KHV_KO, default <repo>/khv.ko)
#   /khv/selftests/...  the selftests ($TESTS_FILE, else selftest_list in lib.sh)
#   /khv/tools/...      ELF executables in tools/ and tools/build/, khv-run and
#                       its Multiboot test kernel (tools/khv-run/build/)
#   /khv/bin/insmod     kmod's insmod ($KMOD, default: kmod on PATH), if any:
#                       busybox insmod retries a failed finit_module with
#                       init_module, which runs a refusing module_init twice
#   /khv/config         settings read by /init
#   + every shared library and the dynamic loader the binaries need (ldd),
#     at their host paths, so dynamic and sanitizer builds run as they do
#     on the host; + the contents of $INITRAMFS_EXTRA if set.
#
# usage: mkinitramfs.sh <out.cpio.gz> [--no-selftests] [--no-tools]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:?usage: mkinitramfs.sh <out.cpio.gz> [--no-selftests] [--no-tools]}
shift
with_tests=1 with_tools=1
for a in "$@"; do
	case $a in
	--no-selftests) with_tests=0 ;;
	--no-tools) with_tools=0 ;;
	*) die "unknown option $a" ;;
	esac
done

KHV_KO=${KHV_KO:-$KHV_ROOT/khv.ko}
BUSYBOX=${BUSYBOX:-/bin/busybox}
KMOD=${KMOD:-$(command -v kmod || true)}
[ -f "$KHV_KO" ] || die "$KHV_KO not built"
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (apt-get install busybox-static)"

root=${out%.cpio.gz}.root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,khv/selftests,khv/tools}
cp "$BUSYBOX" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$KHV_ROOT/scripts/guest-init.sh" "$root/init"
is_elf() { [ "$(head -c4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = '177ELF' ]; }

# guest_copy <src> <dst>: an ELF file without its debug sections (symbols
# stay, for kallsyms and backtraces).  Nothing in the guest reads DWARF,
# and it was a third of the image: the kernel unpacks the image before
# anything runs, which in Bochs took 4 of the 15 s of a boot.
# INITRAMFS_STRIP=0 keeps it, for gdb in the guest.
guest_copy() {
	if [ "${INITRAMFS_STRIP:-1}" = 1 ] && is_elf "$1"; then
		strip --strip-debug -o "$2" "$1" && chmod --reference="$1" "$2"
	else
		cp "$1" "$2"
	fi
}

guest_copy "$KHV_KO" "$root/khv/khv.ko"

bins=()
tests=()
if [ "$with_tests" = 1 ]; then
	while read -r t; do
		src=$(selftest_path "$t")
		# A test INITRAMFS_EXTRA brings (a script): listed, not copied here.
		if [ -z "$src" ] && [ -f "${INITRAMFS_EXTRA:-/nonexistent}/khv/selftests/$t" ]; then
			tests+=("$t")
			continue
		fi
		if [ -z "$src" ]; then
			say "initramfs: selftest $t is listed but not built, left out" >&2
			continue
		fi
		mkdir -p "$(dirname "$root/khv/selftests/$t")"
		guest_copy "$src" "$root/khv/selftests/$t"
		tests+=("$t")
		is_elf "$src" && bins+=("$src")
	done < <(if [ -n "${TESTS_FILE:-}" ]; then cat "$TESTS_FILE"; else selftest_list; fi)
fi

# kmod picks its job from argv[0]: /khv/bin/insmod is kmod's insmod.
if [ -n "$KMOD" ] && [ -x "$KMOD" ]; then
	mkdir -p "$root/khv/bin"
	cp "$KMOD" "$root/khv/bin/kmod"
	ln -s kmod "$root/khv/bin/insmod"
	bins+=("$KMOD")
fi

if [ "$with_tools" = 1 ]; then
	for f in "$KHV_ROOT"/tools/* "$KHV_ROOT"/tools/build/* \
		"$KHV_ROOT"/tools/khv-run/build/khv-run "$KHV_ROOT"/tools/khv-run/build/mbtest.elf; do
		[ -f "$f" ] && [ -x "$f" ] && is_elf "$f" || continue
		case $f in *.so | *.so.*) continue ;; esac
		guest_copy "$f" "$root/khv/tools/$(basename "$f")"
		bins+=("$f")
	done
fi

# Shared libraries, transitively (ldd resolves the whole tree), each at the
# path the host loader found it; their directories go on LD_LIBRARY_PATH so
# that $ORIGIN-relative rpaths still resolve after the move.
libdirs=()
declare -A seen=()
for b in ${bins[@]+"${bins[@]}"}; do
	while read -r lib; do
		[ -n "${seen[$lib]:-}" ] && continue
		seen[$lib]=1
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
		d=$(dirname "$lib")
		case " ${libdirs[*]-} " in *" $d "*) ;; *) libdirs+=("$d") ;; esac
	done < <(ldd "$b" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i }')
done

if [ -n "${INITRAMFS_EXTRA:-}" ]; then
	cp -a "$INITRAMFS_EXTRA"/. "$root"/
fi

libpath=$(IFS=:; echo "${libdirs[*]-}")
cat >"$root/khv/config" <<EOF
TESTS="${tests[*]-}"
TEST_TIMEOUT=$TEST_TIMEOUT
TEST_TIMEOUTS="${TEST_TIMEOUTS:-}"
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
INSMOD_ARGS="${INSMOD_ARGS:-}"
RMMOD=${RMMOD:-1}
LIBPATH="$libpath"
EOF

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
say "initramfs: $out ($(du -k "$out" | cut -f1) KiB, ${#tests[@]} selftests, ${#libdirs[@]} library dirs)"
