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
	&khv_vmx_backend,
};

int khv_backend_ident(void)
{
	/*
	 * Raw CPUID, not boot_cpu_has(): Linux clears X86_FEATURE_VMX when the
	 * firmware locked VMX off, and then the backend's probe() is the one
	 * that can name IA32_FEATURE_CONTROL as the reason.
	 */
	bool vmx = cpuid_ecx(1) & BIT(5);
	bool svm = cpuid_eax(0x80000000) >= 0x80000001 && (cpuid_ecx(0x80000001) & BIT(2));
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
	return err;
}
