# SPDX-License-Identifier: GPL-2.0
# khv top-level Makefile.  `make` builds khv.ko against KDIR (default: the
# running kernel's build dir, else the newest Debian linux-headers installed).
#
# Test lanes (Documentation/khv/testing.rst):
#   make check   lint, host unit tests, selftests in QEMU (5- and 4-level
#                paging) and a no-SVM boot that must refuse insmod
#   make check-debug  the selftests on a KASAN/lockdep debug kernel (built
#                once into /var/cache/khv, 12-25 minutes)
#   make fuzz    selftest fuzz for SECONDS (600) [SEED=, CALLS=, DEBUG=1,
#                FUZZ_LANE=bochs]
#   make demo    tools/khv-hello in the QEMU guest
#   make lint    checkpatch on the kernel sources
#   make bench   scripts/bench.sh
#   make deps    install the Debian packages the lanes need
# Knobs, as make variables: ACCEL=kvm, TIMEOUT=<s per boot>,
# TEST_TIMEOUT=<s per selftest>, TEST_KVER=<kernel to boot>.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	  $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))

.PHONY: all module clean check check-debug fuzz demo lint bench profile deps libkhv selftests tools
all: module

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

# Userspace parts, each with its own Makefile; selftests and tools link
# against libkhv, so it goes first.
libkhv:
	$(MAKE) -C lib/userspace

selftests: libkhv
	$(MAKE) -C selftests

tools: libkhv
	$(MAKE) -C tools

check:
	bash scripts/check.sh

check-debug:
	bash scripts/check-debug.sh

# make's own $(SECONDS) is not set; these are the fuzzer's knobs.
fuzz:
	FUZZ_SECONDS=$(or $(SECONDS),600) FUZZ_CALLS=$(or $(CALLS),0) \
	FUZZ_SEED=$(SEED) bash scripts/fuzz.sh

demo:
	bash scripts/demo.sh

lint:
	bash scripts/lint.sh

deps:
	bash scripts/deps.sh

bench:
	@if [ -f scripts/bench.sh ]; then bash scripts/bench.sh; \
	else echo "bench: scripts/bench.sh does not exist yet" >&2; exit 1; fi

profile:
	bash scripts/profile.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	for d in lib/userspace selftests tools; do \
		if [ -f $$d/Makefile ]; then $(MAKE) -C $$d clean || exit 1; fi; \
	done
	rm -rf build
