# SPDX-License-Identifier: GPL-2.0
# khv top-level Makefile.  `make` builds khv.ko against KDIR (default: the
# running kernel's build dir, else the newest Debian linux-headers installed).
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	  $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64))))

.PHONY: all module clean
all: module

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean
