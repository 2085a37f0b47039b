// SPDX-License-Identifier: GPL-2.0
/*
 * Choosing the backend: once, at module load, from CPUID.  Everything else in
 * core/ reaches the hardware only through the khv_ops table picked here.
 */
#include <linux/kernel.h>
#include <linux/errno.h>
#include <asm/processor.h>
#include <asm/cpufeature.h>

#include "khv.h"

const struct khv_backend *khv_ops;

static const struct khv_backend *const khv_backends[] = {
	&khv_svm_backend,
};

int khv_backend_ident(void)
{
	bool vmx = boot_cpu_has(X86_FEATURE_VMX);
	bool svm = boot_cpu_has(X86_FEATURE_SVM);
	unsigned int i;
	int err = -ENODEV;

	if (!vmx && !svm) {
		pr_err("khv: this CPU has neither VT-x (VMX) nor AMD-V (SVM); nothing to drive\n");
		return -ENODEV;
	}
	for (i = 0; i < ARRAY_SIZE(khv_backends); i++) {
		const struct khv_backend *b = khv_backends[i];

		if ((b->vendor == KHV_VENDOR_AMD && !svm) ||
		    (b->vendor == KHV_VENDOR_INTEL && !vmx))
			continue;
		/* probe() logs its own one-line reason on refusal. */
		err = b->probe();
		if (!err) {
			khv_ops = b;
			return 0;
		}
	}
	if (vmx && err == -ENODEV)
		pr_err("khv: VT-x (VMX) found but this khv has no VMX backend yet\n");
	return err;
}
