#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The debug kernel of `make check-debug`: Debian's linux-source-6.1 with
# scripts/debug-kernel.config (KASAN, lockdep, atomic-sleep checks, KFENCE,
# SLUB debugging, the hung-task and lockup detectors...) merged over
# x86_64_defconfig.  Built once, outside the source tree, and reused:
#   $KHV_DEBUG_CACHE (default /var/cache/khv)/debug-kernel-<key>/
#     src/linux-source-6.1/   the built tree (bzImage, Module.symvers)
#     config.fragment config.log build.log
#     done                    written last: kernelrelease, build time
# The key hashes the fragment, the linux-source package version and
# RECIPE below, so changing any of them builds a new kernel; deleting the
# directory forces a rebuild.  A lock file keeps two runs from building at
# once.  Prints the tree's path as its last line.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Bump when the steps below change what gets built.
RECIPE=1
CACHE=${KHV_DEBUG_CACHE:-/var/cache/khv}
TARBALL=${LINUX_SOURCE_TARBALL:-/usr/src/linux-source-6.1.tar.xz}
TOP=${LINUX_SOURCE_TOP:-linux-source-6.1}
FRAG=$KHV_ROOT/scripts/debug-kernel.config

[ -f "$TARBALL" ] || die "$TARBALL missing (apt-get install linux-source-6.1, or make deps)"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %Y "$TARBALL")
key=$({ cat "$FRAG"; echo "source $srcver"; echo "recipe $RECIPE"; } | sha256sum | cut -c1-12)
dir=$CACHE/debug-kernel-$key
tree=$dir/src/$TOP

if [ ! -f "$dir/done" ]; then
	mkdir -p "$CACHE"
	exec 9>"$dir.lock"
	if ! flock -n 9; then
		say "debug kernel: another run is building it, waiting ($dir.lock)" >&2
		flock 9
	fi
fi
if [ -f "$dir/done" ]; then
	say "debug kernel: reusing $dir ($(sed -n 's/^kernelrelease=//p' "$dir/done"))" >&2
	say "$tree"
	exit 0
fi

say "debug kernel: building in $dir (once; about 25 minutes on 2 CPUs)" >&2
rm -rf "$dir"
mkdir -p "$dir/src"
cp "$FRAG" "$dir/config.fragment"
tar -xJf "$TARBALL" -C "$dir/src"
say "linux-source-6.1 $srcver" >"$dir/extracted"

(cd "$tree" && scripts/kconfig/merge_config.sh -m arch/x86/configs/x86_64_defconfig \
	"$dir/config.fragment" && make olddefconfig) >"$dir/config.log" 2>&1 ||
	die "configuring failed, see $dir/config.log"
# Every line of the fragment must have survived olddefconfig: a symbol
# that a dependency switched off would silently lose a check.
lost=$(grep -E '^(CONFIG_[A-Z0-9_]+=|# CONFIG_[A-Z0-9_]+ is not set)' "$dir/config.fragment" |
	while IFS= read -r line; do
		case $line in
		"# "*)
			sym=${line#\# }
			sym=${sym%% *}
			! grep -q "^$sym=" "$tree/.config" || say "$line"
			;;
		*) grep -qxF "$line" "$tree/.config" || say "$line" ;;
		esac
	done)
[ -z "$lost" ] || die "lines of debug-kernel.config that olddefconfig dropped:
$lost"

t0=$(date +%s)
make -C "$tree" -j"$JOBS" >"$dir/build.log" 2>&1 || {
	tail -n 30 "$dir/build.log" >&2
	die "the debug kernel did not build, see $dir/build.log"
}
{
	say "kernelrelease=$(make -s -C "$tree" kernelrelease)"
	say "build_seconds=$(($(date +%s) - t0))"
	say "jobs=$JOBS"
	say "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$dir/done"
say "debug kernel: built in $(($(date +%s) - t0)) s" >&2
say "$tree"
