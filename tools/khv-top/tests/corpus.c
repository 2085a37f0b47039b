// SPDX-License-Identifier: GPL-2.0
/* The seed images of the fuzz corpus (corpus.h). */
#include "corpus.h"

static const char *const svm_exits[] = {
	"svm_other", "svm_intr", "svm_cpuid", "svm_hlt", "svm_ioio", "svm_msr", "svm_npf",
};
static const uint32_t svm_codes[] = { 0xffffffff, 0x60, 0x72, 0x78, 0x7b, 0x7c, 0x400 };

static const char *const vmx_exits[] = {
	"vmx_external_interrupt", "vmx_cpuid", "vmx_hlt", "vmx_io_instruction",
	"vmx_ept_violation",
};
static const uint32_t vmx_codes[] = { 1, 10, 12, 30, 48 };

static const char *const names[KC_SEEDS] = {
	[KC_VM_SVM] = "vm-svm", [KC_VM_VMX] = "vm-vmx", [KC_VCPU] = "vcpu",
	[KC_FUTURE] = "future", [KC_MINIMAL] = "minimal", [KC_GONE] = "gone",
};

const char *kc_seed_name(unsigned int i)
{
	return i < KC_SEEDS ? names[i] : "?";
}

static void traffic(struct ki *k, const char *const *exits, unsigned int n, uint64_t scale)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		ki_exit(k, exits[i], false, 300u << i, scale * (i + 1));
		ki_exit(k, exits[i], false, 5000u << i, scale);
		if (i % 2)
			ki_exit(k, exits[i], true, 20000u << i, scale / 4 + 1);
	}
	ki_set(k, "time/guest", 900000000ull * scale);
	ki_set(k, "time/kernel", 50000000ull * scale);
	ki_set(k, "time/user", 30000000ull * scale);
	ki_set(k, "time/halt", 10000000ull * scale);
	*ki_must(k, "user_exit/io") = scale * 3;
	*ki_must(k, "kernel/tlb_flush") = scale * 7;
}

void kc_seed(struct ki *k, unsigned int i)
{
	ki_init(k, 10 + i);
	switch (i) {
	case KC_VM_SVM:
	default:
		ki_kernel_vm(k, 2500000, 2, svm_exits, svm_codes, 7);
		traffic(k, svm_exits, 7, 1000);
		ki_set(k, "mmu/pages_pinned", 32768);
		ki_set(k, "mmu/table_pages", 40);
		break;
	case KC_VM_VMX:
		ki_kernel_vm(k, 3000000, 4, vmx_exits, vmx_codes, 5);
		traffic(k, vmx_exits, 5, 100);
		ki_set(k, "exit_timing", 0);
		break;
	case KC_VCPU:
		ki_kernel_vcpu(k, 1, 2500000, svm_exits, svm_codes, 3);
		traffic(k, svm_exits, 3, 10);
		break;
	case KC_FUTURE:
		k->header_size = 128;
		k->desc_size = 96;
		ki_kernel_vm(k, 2000000, 1, svm_exits + 4, svm_codes + 4, 1);
		traffic(k, svm_exits + 4, 1, 50);
		ki_add(k, "exit/svm_ioio/guest_hist", KI_CUM | KI_HIST, 40, 0x7b);
		ki_add(k, "time/steal", KI_CUM | KHV_STATS_UNIT_NS, 1, 0);
		ki_add(k, "net/rx_pages", KI_CUM | KHV_STATS_UNIT_PAGES, 1, 0);
		ki_add(k, "irq/latency_hist", KI_CUM | KI_HIST, 16, 0);
		ki_set(k, "net/rx_pages", 123);
		break;
	case KC_MINIMAL:
		ki_add(k, "exit/x/count", KI_CUM, 1, 1);
		ki_add(k, "exit/x/kernel_hist", KI_CUM | KI_HIST, 2, 1);
		ki_set(k, "exit/x/count", 3);
		ki_must(k, "exit/x/kernel_hist")[1] = 3;
		break;
	case KC_GONE:
		ki_kernel_vm(k, 2500000, 1, svm_exits + 2, svm_codes + 2, 2);
		traffic(k, svm_exits + 2, 2, 5);
		ki_set(k, "alive", 0);
		break;
	}
}
