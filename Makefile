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
#   make install, make uninstall   PREFIX=/usr/local DESTDIR= (install.rst):
#                khv.ko under DKMS, udev rule and khv group, libkhv,
#                khv-run, the libvirt driver, virtkhvd and its units
#   make lab-install   as root on a lab host: build dependencies, then install
#   make lab-vm  a first VM through virtkhvd (the host's kernel, a console)
#   make deb     Debian packages of the same (build/deb/)
#   make check-install   install and uninstall into a staging directory
#   make check-lab-host  make lab-install and lab-vm on a Debian 12 made
#                from scratch, booted in QEMU (about half an hour; not in check)
# Knobs, as make variables: ACCEL=kvm, TIMEOUT=<s per boot>,
# TEST_TIMEOUT=<s per selftest>, TEST_KVER=<kernel to boot>.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	  $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))

.PHONY: all module clean check check-debug fuzz demo lint bench profile deps libkhv selftests tools \
	install uninstall install-module uninstall-module install-libkhv uninstall-libkhv \
	install-khv-run uninstall-khv-run install-libvirt uninstall-libvirt deb check-install \
	lab-install lab-vm check-lab-host
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

# ---- installing (Documentation/khv/install.rst) ----------------------------
# The targets here run one at a time (install's parts share build
# directories); the sub-makes they call still take -j.
.NOTPARALLEL:

VERSION		:= 0.1.0
PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
SBINDIR		?= $(PREFIX)/sbin
MANDIR		?= $(PREFIX)/share/man
# udev, systemd, sysusers and modules-load read /usr/lib (a package's) and
# /etc (the administrator's): a PREFIX=/usr install is a package's.
SYSLIB		:= $(if $(filter /usr,$(PREFIX)),/usr/lib,/etc)
UDEVRULESDIR	?= $(SYSLIB)/udev/rules.d
UNITDIR		?= $(SYSLIB)/systemd/system
SYSUSERSDIR	?= $(SYSLIB)/sysusers.d
MODULESLOADDIR	?= $(SYSLIB)/modules-load.d
# DKMS takes its sources from /usr/src; libvirt loads driver modules from
# its own directory, and virtkhvd reads /etc/libvirt/virtkhvd.conf,
# whatever the PREFIX.
DKMSDIR		:= /usr/src/khv-$(VERSION)
LIBVIRT_DRIVER_DIR ?= $(shell pkg-config --variable=libdir libvirt 2>/dev/null || \
			echo /usr/lib/x86_64-linux-gnu)/libvirt/connection-driver
LIBVIRT_CONFDIR	:= /etc/libvirt
# The module's sources, as Kbuild builds them.
KSRC		:= Kbuild uapi/linux/khv.h \
		   $(sort $(wildcard core/*.[chS] svm/*.[chS] vmx/*.[chS] mmu/*.[chS] irq/*.[chS]))
UNITS		:= virtkhvd.service virtkhvd.socket virtkhvd-ro.socket virtkhvd-admin.socket \
		   virtkhvd-tcp.socket
# The running system is changed (DKMS, group, udev, systemd) only without DESTDIR.
LIVE		= $(if $(DESTDIR),:,sh packaging/live.sh)

install: install-module install-libkhv install-khv-run install-libvirt
uninstall: uninstall-libvirt uninstall-khv-run uninstall-libkhv uninstall-module

install-module:
	for f in $(KSRC); do install -D -m 644 $$f $(DESTDIR)$(DKMSDIR)/$$f || exit 1; done
	sed 's/@VERSION@/$(VERSION)/' packaging/dkms.conf.in >$(DESTDIR)$(DKMSDIR)/dkms.conf
	install -D -m 644 packaging/60-khv.rules $(DESTDIR)$(UDEVRULESDIR)/60-khv.rules
	install -D -m 644 packaging/khv.sysusers $(DESTDIR)$(SYSUSERSDIR)/khv.conf
	install -D -m 644 packaging/khv.modules-load $(DESTDIR)$(MODULESLOADDIR)/khv.conf
	$(LIVE) install-module $(VERSION)

uninstall-module:
	$(LIVE) uninstall-module $(VERSION)
	rm -rf $(DESTDIR)$(DKMSDIR)
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-khv.rules $(DESTDIR)$(SYSUSERSDIR)/khv.conf \
		$(DESTDIR)$(MODULESLOADDIR)/khv.conf

install-libkhv:
	$(MAKE) -C lib/userspace install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)
	$(LIVE) ldconfig

uninstall-libkhv:
	$(MAKE) -C lib/userspace uninstall PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

install-khv-run: tools
	install -D -m 755 tools/khv-run/build/khv-run $(DESTDIR)$(BINDIR)/khv-run
	install -D -m 644 tools/khv-run/khv-run.1 $(DESTDIR)$(MANDIR)/man1/khv-run.1
	install -D -m 755 tools/khv-top/build/khv-top $(DESTDIR)$(BINDIR)/khv-top
	install -D -m 644 tools/khv-top/khv-top.1 $(DESTDIR)$(MANDIR)/man1/khv-top.1
	install -D -m 755 tools/khv-trace/build/khv-trace $(DESTDIR)$(BINDIR)/khv-trace
	install -D -m 644 tools/khv-trace/khv-trace.1 $(DESTDIR)$(MANDIR)/man1/khv-trace.1

uninstall-khv-run:
	rm -f $(DESTDIR)$(BINDIR)/khv-run $(DESTDIR)$(MANDIR)/man1/khv-run.1 \
		$(DESTDIR)$(BINDIR)/khv-top $(DESTDIR)$(MANDIR)/man1/khv-top.1 \
		$(DESTDIR)$(BINDIR)/khv-trace $(DESTDIR)$(MANDIR)/man1/khv-trace.1

# The driver is built with khv-run's installed path as its default emulator.
install-libvirt:
	$(MAKE) -C libvirt-driver all KHV_RUN_BIN=$(BINDIR)/khv-run
	install -D -m 644 libvirt-driver/build/libvirt_driver_khv.so \
		$(DESTDIR)$(LIBVIRT_DRIVER_DIR)/libvirt_driver_khv.so
	install -D -m 755 libvirt-driver/build/virtkhvd $(DESTDIR)$(SBINDIR)/virtkhvd
	install -D -m 644 packaging/virtkhvd.8 $(DESTDIR)$(MANDIR)/man8/virtkhvd.8
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@SBINDIR@|$(SBINDIR)|' packaging/virtkhvd.service.in \
		>$(DESTDIR)$(UNITDIR)/virtkhvd.service
	for u in $(filter %.socket,$(UNITS)); do \
		install -m 644 packaging/$$u $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	# The administrator's settings stay: written only when there are none.
	[ -e $(DESTDIR)$(LIBVIRT_CONFDIR)/virtkhvd.conf ] || \
		install -D -m 644 packaging/virtkhvd.conf $(DESTDIR)$(LIBVIRT_CONFDIR)/virtkhvd.conf
	$(LIVE) install-libvirt

uninstall-libvirt:
	$(LIVE) uninstall-libvirt
	rm -f $(DESTDIR)$(LIBVIRT_DRIVER_DIR)/libvirt_driver_khv.so $(DESTDIR)$(SBINDIR)/virtkhvd \
		$(DESTDIR)$(MANDIR)/man8/virtkhvd.8 $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	# Settings someone changed stay.
	! cmp -s packaging/virtkhvd.conf $(DESTDIR)$(LIBVIRT_CONFDIR)/virtkhvd.conf || \
		rm -f $(DESTDIR)$(LIBVIRT_CONFDIR)/virtkhvd.conf

# A lab host from scratch (README): what the build needs, make install,
# and the invoking user in group khv; then a first VM.
lab-install:
	bash scripts/deps.sh --lab
	$(MAKE) install
	if [ -n "$$SUDO_USER" ] && [ "$$SUDO_USER" != root ]; then \
		usermod -aG khv "$$SUDO_USER" && \
		echo "khv: $$SUDO_USER is in group khv from the next login"; fi

lab-vm:
	sh packaging/lab-vm.sh

deb:
	bash packaging/mkdeb.sh $(VERSION)

check-lab-host:
	bash scripts/lab-host.sh

check-install:
	bash packaging/test-install.sh $(VERSION)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	for d in lib/userspace selftests tools; do \
		if [ -f $$d/Makefile ]; then $(MAKE) -C $$d clean || exit 1; fi; \
	done
	rm -rf build
