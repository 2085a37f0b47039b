// SPDX-License-Identifier: GPL-2.0
/*
 * The machine: guest RAM around the PCI hole, the in-kernel irqchip, the
 * vCPUs with their CPUID and study mode (--study) and the boot processor's
 * entry state, the devices on their buses, and the kernel loaded by its
 * loader.  Addresses, ports and IRQs come from machine.h; this file only
 * wires them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "cpuid.h"
#include "devices.h"
#include "machine.h"
#include "migrate.h"
#include "multiboot.h"
#include "strbuf.h"
#include "vmm.h"

/* The boot GDT: null, null, then the selectors the boot protocol names. */
#define KR_BOOT_CS	0x10
#define KR_BOOT_DS	0x18
#define KR_IDMAP_SIZE	KR_4G

/*
 * Image buffers are mappings of their own, not malloc's: unmapped, their
 * memory leaves the process at once (a freed malloc chunk of megabytes
 * may stay in its heap).
 */
static void kr_image_unmap(uint8_t *buf, size_t len)
{
	if (buf)
		munmap(buf, len ? len : 1);
}

/* A whole regular file, read from its start; NULL with errno set. */
static uint8_t *kr_read_fd(int fd, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;

	if (fstat(fd, &st))
		return NULL;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return NULL;
	}
	buf = mmap(NULL, st.st_size ? st.st_size : 1, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return NULL;
	while (done < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + done, st.st_size - done, done);

		if (n <= 0) {
			if (!n)
				errno = EIO;	/* shrank under us */
			kr_image_unmap(buf, st.st_size);
			return NULL;
		}
		done += n;
	}
	*len = done;
	return buf;
}

void *kr_ram_alloc(uint64_t size, bool huge)
{
	uintptr_t p, a, end;
	void *m;

	if (huge) {
		/*
		 * A hugetlb file of our own, never named: MAP_SHARED reserves
		 * every page now, so too few reserved huge pages fail here with
		 * ENOMEM, not with a SIGBUS in the middle of the guest's run.
		 */
		int fd = memfd_create("khv-run-ram", MFD_CLOEXEC | MFD_HUGETLB), e;

		if (fd < 0)
			return NULL;
		m = MAP_FAILED;
		if (!ftruncate(fd, (off_t)size))
			m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		e = errno;
		close(fd);
		errno = e;
		return m == MAP_FAILED ? NULL : m;
	}

	/*
	 * 2 MiB-aligned, so that the host's transparent huge pages cover
	 * 2 MiB-aligned runs of guest-physical memory, which khv then maps
	 * with 2 MiB leaves (Documentation/khv/mmu.rst): Linux 6.1 aligns no
	 * anonymous mapping by itself, and an unaligned one gets 4 KiB leaves
	 * only, many more nested page faults.  Map the alignment more, unmap
	 * the ends.  Not MAP_NORESERVE: the kernel's overcommit check then
	 * refuses a size the host can never give, here, instead of an OOM
	 * kill later.
	 */
	m = mmap(NULL, size + KR_RAM_ALIGN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	p = (uintptr_t)m;
	a = (p + KR_RAM_ALIGN - 1) & ~(uintptr_t)(KR_RAM_ALIGN - 1);
	end = p + size + KR_RAM_ALIGN;
	if (a > p)
		munmap(m, a - p);
	if (end > a + size)
		munmap((void *)(a + size), end - (a + size));
	madvise((void *)a, size, MADV_HUGEPAGE);	/* best effort: THP */
	return (void *)a;
}

static int kr_memory(struct kr_machine *m, char *why, size_t len)
{
	uint64_t ram = m->cfg->ram;
	int err;

	kr_mem_split(ram, &m->mem.low_size, &m->mem.high_size);
	m->mem.low = kr_ram_alloc(m->mem.low_size, m->cfg->hugepages);
	if (m->mem.high_size)
		m->mem.high = kr_ram_alloc(m->mem.high_size, m->cfg->hugepages);
	if (!m->mem.low || (m->mem.high_size && !m->mem.high))
		return kr_fail(why, len, KR_EXIT_HOST, "cannot map %llu MiB of guest RAM%s: %s",
			       (unsigned long long)(ram >> 20),
			       m->cfg->hugepages ? " in huge pages (are enough reserved? vm.nr_hugepages)" : "",
			       strerror(errno));
	err = khv_vm_set_memory(&m->vm, KR_SLOT_LOW, 0, 0, m->mem.low_size, m->mem.low);
	if (!err && m->mem.high_size)
		err = khv_vm_set_memory(&m->vm, KR_SLOT_HIGH, 0, KR_HIGHMEM_BASE,
					m->mem.high_size, m->mem.high);
	if (err)
		return kr_fail(why, len, KR_EXIT_HOST, "KHV_SET_MEMORY: %s", khv_strerror(err));
	return 0;
}

static int kr_vcpu_cpuid(struct kr_machine *m, struct kr_vcpu *v)
{
	struct khv_cpuid_entry e[KHV_MAX_CPUID_ENTRIES];
	uint32_t n;
	int err = khv_get_supported_cpuid(&m->sys, e, KHV_MAX_CPUID_ENTRIES, &n);

	if (err)
		return err;
	n = kr_cpuid_for_vcpu(e, n, KHV_MAX_CPUID_ENTRIES, v->index, m->nr_vcpus,
			      m->cfg->kvmclock);
	return khv_vcpu_set_cpuid(&v->vcpu, e, n);
}

/* Long mode as the 64-bit boot protocol wants it, or 32-bit flat. */
static int kr_boot_state(struct kr_machine *m, const struct kr_boot_entry *b)
{
	struct khv_vcpu *bsp = &m->vcpus[0].vcpu;
	uint64_t *gdt = kr_gpa(&m->mem, KR_GDT_ADDR, 4 * 8);
	struct khv_sregs s;
	struct khv_regs r;
	int err;

	if (!gdt)
		return -ENOMEM;
	err = khv_vcpu_get_sregs(bsp, &s);
	if (err)
		return err;
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = 0x00af9b000000ffffull;		/* 64-bit code, DPL 0 */
	gdt[3] = 0x00cf93000000ffffull;		/* data, 4 GiB */
	if (b->mode == KR_BOOT_LONG64) {
		long used = khv_build_identity_map(kr_gpa(&m->mem, KR_PAGE_TABLES, 0x6000),
						   KR_PAGE_TABLES, KR_IDMAP_SIZE);

		if (used < 0)
			return (int)used;
		khv_sregs_long_mode(&s, KR_PAGE_TABLES);
	} else {
		gdt[2] = 0x00cf9b000000ffffull;		/* 32-bit code, 4 GiB */
		khv_sregs_protected_flat(&s);
	}
	s.gdt.base = KR_GDT_ADDR;
	s.gdt.limit = 4 * 8 - 1;
	s.cs.selector = KR_BOOT_CS;
	s.ds.selector = s.es.selector = s.fs.selector = s.gs.selector =
		s.ss.selector = KR_BOOT_DS;
	s.apic_base = 0xfee00000ull | (1u << 11) | (1u << 8);	/* enabled, BSP */
	err = khv_vcpu_set_sregs(bsp, &s);
	if (err)
		return err;
	memset(&r, 0, sizeof(r));
	r.rflags = 2;
	r.rip = b->rip;
	r.rsi = b->rsi;
	r.rax = b->eax;
	r.rbx = b->ebx;
	return khv_vcpu_set_regs(bsp, &r);
}

static void kr_linux_args(const struct kr_config *cfg, struct kr_linux_args *a)
{
	*a = (struct kr_linux_args){
		.kernel = cfg->kernel_buf, .kernel_len = cfg->kernel_len,
		.initrd = cfg->initrd_buf, .initrd_len = cfg->initrd_len,
		.cmdline = cfg->cmdline ? cfg->cmdline : "",
	};
}

/*
 * The kernel and initrd into memory from the files opened at start, and
 * the kernel's kind: for each (re)boot, checked again by its loader.
 */
int kr_images_read(struct kr_config *cfg, char *why, size_t len)
{
	kr_images_drop(cfg);
	cfg->kernel_buf = kr_read_fd(cfg->kernel_fd, &cfg->kernel_len);
	if (!cfg->kernel_buf)
		return kr_fail(why, len, KR_EXIT_IMAGE, "%s: %s", cfg->kernel, strerror(errno));
	if (cfg->initrd_fd >= 0) {
		cfg->initrd_buf = kr_read_fd(cfg->initrd_fd, &cfg->initrd_len);
		if (!cfg->initrd_buf)
			return kr_fail(why, len, KR_EXIT_IMAGE, "%s: %s", cfg->initrd,
				       strerror(errno));
	}
	/*
	 * A bzImage has its "HdrS"; an x86-64 ELF boots by PVH; else a
	 * Multiboot header (checked when it is loaded); else the bzImage
	 * loader says what is wrong.
	 */
	cfg->kernel_kind = KR_KERNEL_BZIMAGE;
	if (cfg->kernel_len < 0x206 || memcmp(cfg->kernel_buf + 0x202, "HdrS", 4)) {
		if (kr_pvh_detect(cfg->kernel_buf, cfg->kernel_len))
			cfg->kernel_kind = KR_KERNEL_PVH;
		else if (kr_multiboot_detect(cfg->kernel_buf, cfg->kernel_len))
			cfg->kernel_kind = KR_KERNEL_MULTIBOOT;
	}
	return 0;
}

/* The guest has its copy: the images' memory goes back (the files stay open). */
void kr_images_drop(struct kr_config *cfg)
{
	kr_image_unmap(cfg->kernel_buf, cfg->kernel_len);
	kr_image_unmap(cfg->initrd_buf, cfg->initrd_len);
	cfg->kernel_buf = cfg->initrd_buf = NULL;
	cfg->kernel_len = cfg->initrd_len = 0;
}

int kr_images_load(struct kr_config *cfg, char *why, size_t len)
{
	struct kr_e820_entry map[KR_E820_MAX];
	struct kr_linux_args a;
	struct kr_mem sizes = { 0 };
	char lwhy[KR_WHY_LEN];
	int err;

	cfg->kernel_fd = open(cfg->kernel, O_RDONLY | O_CLOEXEC);
	if (cfg->kernel_fd < 0)
		return kr_fail(why, len, KR_EXIT_IMAGE, "%s: %s", cfg->kernel, strerror(errno));
	if (cfg->initrd) {
		cfg->initrd_fd = open(cfg->initrd, O_RDONLY | O_CLOEXEC);
		if (cfg->initrd_fd < 0)
			return kr_fail(why, len, KR_EXIT_IMAGE, "%s: %s", cfg->initrd,
				       strerror(errno));
	}
	err = kr_images_read(cfg, why, len);
	if (err)
		return err;
	cfg->disks = calloc(cfg->nr_disks ? cfg->nr_disks : 1, sizeof(*cfg->disks));
	if (!cfg->disks)
		return kr_fail(why, len, KR_EXIT_HOST, "out of memory");
	for (unsigned int i = 0; i < cfg->nr_disks; i++) {
		char name[16];

		kr_disk_name(i, name, sizeof(name));
		if (kr_disk_open(&cfg->disk_opts[i], name, &cfg->disks[i], lwhy, sizeof(lwhy)))
			return kr_fail(why, len, KR_EXIT_IMAGE, "%s", lwhy);
		if (lwhy[0])
			fprintf(stderr, "khv-run: %s\n", lwhy);
	}
	kr_mem_split(cfg->ram, &sizes.low_size, &sizes.high_size);
	if (cfg->kernel_kind == KR_KERNEL_MULTIBOOT)
		return 0;
	kr_linux_args(cfg, &a);
	a.e820 = map;
	a.e820_entries = kr_e820_build(&sizes, map, KR_E820_MAX);
	if ((cfg->kernel_kind == KR_KERNEL_PVH ? kr_pvh_load : kr_linux_load)(&sizes, &a, NULL,
									       lwhy))
		return kr_fail(why, len, KR_EXIT_IMAGE, "%s: %s", cfg->kernel, lwhy);
	return 0;
}

void kr_images_free(struct kr_config *cfg)
{
	kr_images_drop(cfg);
	if (cfg->kernel_fd >= 0)
		close(cfg->kernel_fd);
	if (cfg->initrd_fd >= 0)
		close(cfg->initrd_fd);
	cfg->kernel_fd = cfg->initrd_fd = -1;
	for (unsigned int i = 0; cfg->disks && i < cfg->nr_disks; i++)
		kr_disk_close(cfg->disks[i]);
	free(cfg->disks);
	free(cfg->disk_opts);
	cfg->disks = NULL;
	cfg->disk_opts = NULL;
	cfg->nr_disks = 0;
}

/* The initrd, if any, is the one module; its string is its path. */
static int kr_load_multiboot(struct kr_machine *m, char *why, size_t len)
{
	const struct kr_config *cfg = m->cfg;
	struct kr_mb_module mod = {
		.data = cfg->initrd_buf, .len = cfg->initrd_len, .string = cfg->initrd,
	};
	struct kr_mb_args a = {
		.cmdline = cfg->cmdline, .mods = &mod, .n_mods = cfg->initrd_buf ? 1 : 0,
	};
	struct kr_boot_entry entry;
	char lwhy[KR_WHY_LEN];
	int err = kr_multiboot_load_buf(&m->mem, cfg->kernel_buf, cfg->kernel_len, &a, &entry,
					lwhy, sizeof(lwhy));

	if (err)
		return kr_fail(why, len, KR_EXIT_IMAGE, "%s: %s", cfg->kernel, lwhy);
	err = kr_boot_state(m, &entry);
	if (err)
		return kr_fail(why, len, KR_EXIT_HOST, "boot processor state: %s",
			       khv_strerror(err));
	return 0;
}

static int kr_load_kernel(struct kr_machine *m, char *why, size_t len)
{
	struct kr_e820_entry map[KR_E820_MAX];
	struct kr_linux_args a;
	struct kr_boot_entry entry;
	char lwhy[KR_WHY_LEN];
	int err;

	if (m->cfg->kernel_kind == KR_KERNEL_MULTIBOOT)
		return kr_load_multiboot(m, why, len);
	kr_linux_args(m->cfg, &a);
	a.e820 = map;
	a.e820_entries = kr_e820_build(&m->mem, map, KR_E820_MAX);
	a.rsdp = kr_devices_rsdp(m->dev);
	if (m->cfg->kernel_kind == KR_KERNEL_PVH)
		err = kr_pvh_load(&m->mem, &a, &entry, lwhy);
	else
		err = kr_linux_load(&m->mem, &a, &entry, lwhy);
	if (err)
		return kr_fail(why, len, KR_EXIT_IMAGE, "%s: %s", m->cfg->kernel, lwhy);
	err = kr_boot_state(m, &entry);
	if (err)
		return kr_fail(why, len, KR_EXIT_HOST, "boot processor state: %s",
			       khv_strerror(err));
	return 0;
}

int kr_machine_create(struct kr_machine *m, const struct kr_config *cfg, struct kr_loop *loop,
		      char *why, size_t len)
{
	struct khv_study study = { 0 };
	int err;

	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->loop = loop;
	m->nr_vcpus = cfg->nr_vcpus;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	kr_bus_init(&m->pio, "pio");
	kr_bus_init(&m->mmio, "mmio");

	err = khv_open(&m->sys, cfg->device);
	if (err)
		return kr_fail(why, len, KR_EXIT_HOST, "%s: %s", cfg->device ? cfg->device :
			       LIBKHV_DEFAULT_DEVICE, khv_strerror(err));
	m->sys_open = true;
	if (khv_check_extension(&m->sys, KHV_CAP_IRQCHIP) <= 0 ||
	    khv_check_extension(&m->sys, KHV_CAP_IRQFD) <= 0 ||
	    khv_check_extension(&m->sys, KHV_CAP_IOEVENTFD) <= 0)
		return kr_fail(why, len, KR_EXIT_HOST, "this khv.ko has no in-kernel irqchip, "
			       "irqfd or ioeventfd (khv-run needs all three)");
	if ((int)m->nr_vcpus > khv_check_extension(&m->sys, KHV_CAP_NR_VCPUS))
		return kr_fail(why, len, KR_EXIT_USAGE, "%u vCPUs: khv allows at most %d",
			       m->nr_vcpus, khv_check_extension(&m->sys, KHV_CAP_NR_VCPUS));
	if (cfg->study.events) {
		if (kr_study_check(&cfg->study, khv_check_extension(&m->sys, KHV_CAP_STUDY),
				   why, len))
			return KR_EXIT_HOST;
		kr_study_request(&cfg->study, &study);
	}
	err = khv_vm_create(&m->sys, &m->vm);
	if (err)
		return kr_fail(why, len, KR_EXIT_HOST, "KHV_CREATE_VM: %s", khv_strerror(err));
	m->vm_open = true;
	err = kr_memory(m, why, len);
	if (err)
		return err;
	err = khv_vm_create_irqchip(&m->vm);
	if (err)
		return kr_fail(why, len, KR_EXIT_HOST, "KHV_CREATE_IRQCHIP: %s",
			       khv_strerror(err));
	for (unsigned int i = 0; i < m->nr_vcpus; i++) {
		struct kr_vcpu *v = &m->vcpus[i];

		v->m = m;
		v->index = i;
		err = khv_vcpu_create(&m->vm, i, &v->vcpu);
		if (!err)
			err = kr_vcpu_cpuid(m, v);
		if (err) {
			v->vcpu.fd = -1;
			return kr_fail(why, len, KR_EXIT_HOST, "vCPU %u: %s", i,
				       khv_strerror(err));
		}
		/* --study on each vCPU of each boot: a reboot's new vCPUs too. */
		err = cfg->study.events ? khv_vcpu_set_study(&v->vcpu, &study) : 0;
		if (err)
			return kr_fail(why, len, KR_EXIT_HOST, "vCPU %u: KHV_SET_STUDY: %s", i,
				       khv_strerror(err));
	}
	err = kr_devices_create(m, why, len);
	if (err)
		return err;
	return kr_load_kernel(m, why, len);
}

int kr_machine_map_vram(struct kr_machine *m, bool map, uint64_t gpa, uint64_t size, void *hva)
{
	return khv_vm_set_memory(&m->vm, KR_SLOT_VRAM, 0, map ? gpa : 0, map ? size : 0,
				 map ? hva : NULL);
}

void kr_machine_destroy(struct kr_machine *m)
{
	kr_migrate_stop(m);
	kr_devices_destroy(m);
	for (unsigned int i = 0; i < m->nr_vcpus; i++)
		if (m->vcpus[i].vcpu.run)
			khv_vcpu_destroy(&m->vcpus[i].vcpu);
	if (m->vm_open)
		khv_vm_destroy(&m->vm);
	if (m->sys_open)
		khv_close(&m->sys);
	if (m->mem.low)
		munmap(m->mem.low, m->mem.low_size);
	if (m->mem.high)
		munmap(m->mem.high, m->mem.high_size);
	kr_bus_free(&m->pio);
	kr_bus_free(&m->mmio);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	memset(&m->mem, 0, sizeof(m->mem));
}
