// SPDX-License-Identifier: GPL-2.0
/*
 * The ACPI tables (acpi.c): found as Linux finds them, checksums, layout at
 * the ACPI 6.x offsets (written here as numbers from the specification's
 * tables, not from acpi.c's names), MADT entries per vCPU count, the error
 * paths; then, when acpica-tools is installed, iasl disassembles and
 * recompiles every table, compiles an ASL version of the DSDT to compare
 * with ours byte for byte, and acpiexec (ACPICA, as in Linux) loads them.
 *
 * Guest memory is a heap block of exactly KR_BIOS_END bytes, so that ASan
 * catches any write past the area.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../acpi.h"
#include "../machine.h"
#include "t.h"

#define MEM_SIZE	KR_BIOS_END
#define GARBAGE		0xa5

static const struct kr_acpi_config cfg_2 = {
	.nr_vcpus = 2,
	.ram_below_4g = 1ull << 30,
	.have_i8042 = true,
};

static uint8_t *new_mem(void)
{
	uint8_t *m = malloc(MEM_SIZE);

	if (m)
		memset(m, GARBAGE, MEM_SIZE);
	return m;
}

static uint64_t le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/*
 * What Linux does without boot_params.acpi_rsdp_addr (ACPICA's
 * AcpiFindRootPointer over the BIOS area): 16-byte steps, signature, the
 * 20-byte checksum, and for revision 2+ the 36-byte extended one.  Returns
 * the gpa of the first valid one, 0 when none; *count = how many valid.
 */
static uint64_t scan_rsdp(const uint8_t *mem, unsigned int *count)
{
	uint64_t found = 0;

	*count = 0;
	for (uint64_t a = 0xe0000; a + 36 <= 0x100000; a += 16) {
		const uint8_t *p = mem + a;

		if (memcmp(p, "RSD PTR ", 8) || sum8(p, 20))
			continue;
		if (p[15] >= 2 && (le(p + 20, 4) != 36 || sum8(p, 36)))
			continue;
		if (!found)
			found = a;
		(*count)++;
	}
	return found;
}

/* A table at gpa: inside the area, its length and checksum right, sig matching. */
static const uint8_t *table_at(const uint8_t *mem, uint64_t gpa, const char *sig)
{
	const uint8_t *p = mem + gpa;
	uint64_t len;

	if (gpa < KR_ACPI_START || gpa > KR_BIOS_END - 36)
		return NULL;
	len = le(p + 4, 4);
	if (len < 36 || len > KR_BIOS_END - gpa || sum8(p, len) || memcmp(p, sig, 4))
		return NULL;
	return p;
}

static const uint8_t *xsdt_of(const uint8_t *mem)
{
	unsigned int n;
	uint64_t rsdp = scan_rsdp(mem, &n);

	if (!rsdp)
		return NULL;
	return table_at(mem, le(mem + rsdp + 24, 8), "XSDT");
}

/* The table the XSDT lists with that signature, checked. */
static const uint8_t *find_table(const uint8_t *mem, const char *sig)
{
	const uint8_t *x = xsdt_of(mem);

	if (!x)
		return NULL;
	for (uint64_t off = 36; off + 8 <= le(x + 4, 4); off += 8) {
		uint64_t gpa = le(x + off, 8);

		if (gpa >= KR_ACPI_START && gpa < KR_BIOS_END - 4 && !memcmp(mem + gpa, sig, 4))
			return table_at(mem, gpa, sig);
	}
	return NULL;
}

static const uint8_t *dsdt_of(const uint8_t *mem)
{
	const uint8_t *f = find_table(mem, "FACP");

	return f ? table_at(mem, le(f + 140, 8), "DSDT") : NULL;
}

static bool dsdt_has(const uint8_t *mem, const void *bytes, size_t n)
{
	const uint8_t *d = dsdt_of(mem);

	return d && memmem(d + 36, le(d + 4, 4) - 36, bytes, n);
}

KR_TEST(acpi_rsdp)
{
	uint8_t *mem = new_mem();
	const uint8_t *p;
	unsigned int n;
	uint64_t at;

	/* A stale RSDP from an earlier boot must not survive. */
	memcpy(mem + 0xf0000, "RSD PTR ", 8);
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg_2), 0);
	at = scan_rsdp(mem, &n);
	CHECK_EQ(at, KR_RSDP_ADDR);
	CHECK_EQ(n, 1);
	p = mem + KR_RSDP_ADDR;
	CHECK_EQ(p[15], 2);				/* revision */
	CHECK(!memcmp(p + 9, KR_ACPI_OEM_ID, 6));
	CHECK(table_at(mem, le(p + 16, 4), "RSDT") != NULL);
	CHECK(table_at(mem, le(p + 24, 8), "XSDT") != NULL);
	CHECK(!memcmp(mem + 0xf0000, "\0\0\0\0\0\0\0\0", 8));
	/* Outside the area: untouched. */
	CHECK_EQ(mem[KR_BIOS_START - 1], GARBAGE);
	CHECK_EQ(mem[0], GARBAGE);
	free(mem);
}

KR_TEST(acpi_xsdt)
{
	static const char *const sigs[] = { "FACP", "APIC", "MCFG" };
	uint64_t start[16], end[16];
	unsigned int nt = 0;
	uint8_t *mem = new_mem();
	const uint8_t *x, *r, *f;

	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg_2), 0);
	x = xsdt_of(mem);
	r = table_at(mem, le(mem + KR_RSDP_ADDR + 16, 4), "RSDT");
	CHECK(x && r);
	if (!x || !r)
		goto out;
	CHECK_EQ(le(x + 4, 4), 36 + 8 * ARRAY_SIZE(sigs));
	CHECK_EQ(le(r + 4, 4), 36 + 4 * ARRAY_SIZE(sigs));
	CHECK(!memcmp(x + 10, KR_ACPI_OEM_ID, 6) && !memcmp(x + 16, KR_ACPI_OEM_TABLE_ID, 8));
	start[nt] = KR_RSDP_ADDR;
	end[nt++] = KR_RSDP_ADDR + 36;
	start[nt] = x - mem;
	end[nt++] = x - mem + le(x + 4, 4);
	start[nt] = r - mem;
	end[nt++] = r - mem + le(r + 4, 4);
	for (unsigned int i = 0; i < ARRAY_SIZE(sigs); i++) {
		uint64_t gpa = le(x + 36 + 8 * i, 8);
		const uint8_t *t = table_at(mem, gpa, sigs[i]);

		CHECK(t != NULL);
		CHECK_EQ(le(r + 36 + 4 * i, 4), gpa);	/* the RSDT agrees */
		if (!t)
			continue;
		start[nt] = gpa;
		end[nt++] = gpa + le(t + 4, 4);
	}
	f = find_table(mem, "FACP");
	if (f) {
		const uint8_t *d = dsdt_of(mem);

		CHECK(d != NULL);
		start[nt] = d ? (uint64_t)(d - mem) : 0;
		end[nt++] = d ? (uint64_t)(d - mem) + le(d + 4, 4) : 0;
		start[nt] = le(f + 36, 4);
		end[nt++] = le(f + 36, 4) + 64;
	}
	CHECK_EQ(nt, 8);
	/* Every table inside the area, none overlapping another. */
	for (unsigned int i = 0; i < nt; i++) {
		CHECK(start[i] >= KR_BIOS_START && end[i] <= KR_BIOS_END && start[i] < end[i]);
		for (unsigned int j = 0; j < i; j++)
			CHECK(end[i] <= start[j] || end[j] <= start[i]);
	}
out:
	free(mem);
}

KR_TEST(acpi_fadt)
{
	uint8_t *mem = new_mem();
	struct kr_acpi_config cfg = cfg_2;
	const uint8_t *f, *facs, *dsdt;

	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), 0);
	f = find_table(mem, "FACP");
	CHECK(f != NULL);
	if (!f)
		goto out;
	CHECK_EQ(le(f + 4, 4), 276);
	CHECK_EQ(f[8], 6);				/* major version */
	CHECK_EQ(f[131], 3);				/* minor version */
	/* FIRMWARE_CTRL (36) alone, X_FIRMWARE_CTRL (132) zero; DSDT (40) = X_DSDT (140). */
	CHECK(le(f + 36, 4) != 0);
	CHECK_EQ(le(f + 132, 8), 0);
	CHECK_EQ(le(f + 40, 4), le(f + 140, 8));
	facs = mem + le(f + 36, 4);
	CHECK_EQ(le(f + 36, 4) % 64, 0);
	CHECK(!memcmp(facs, "FACS", 4) && le(facs + 4, 4) == 64 && facs[32] == 2);
	dsdt = table_at(mem, le(f + 140, 8), "DSDT");
	CHECK(dsdt && dsdt[8] == 2);
	CHECK_EQ(le(f + 46, 2), KR_GSI_SCI);		/* SCI_INT */
	CHECK_EQ(le(f + 48, 4), 0);			/* SMI_CMD: no SMM */
	CHECK_EQ(le(f + 56, 4), KR_PORT_PM1A_EVT);
	CHECK_EQ(le(f + 60, 4), 0);			/* PM1b_EVT */
	CHECK_EQ(le(f + 64, 4), KR_PORT_PM1A_CNT);
	CHECK_EQ(le(f + 68, 4), 0);			/* PM1b_CNT */
	CHECK_EQ(le(f + 72, 4), 0);			/* PM2_CNT */
	CHECK_EQ(le(f + 76, 4), KR_PORT_PM_TMR);
	CHECK_EQ(le(f + 80, 8), 0);			/* GPE0, GPE1 */
	CHECK_EQ(f[88], 4);				/* PM1_EVT_LEN */
	CHECK_EQ(f[89], 2);				/* PM1_CNT_LEN */
	CHECK_EQ(f[91], 4);				/* PM_TMR_LEN */
	CHECK_EQ(f[92] | f[93], 0);			/* GPE0/1_BLK_LEN */
	CHECK(le(f + 96, 2) > 100);			/* no C2 */
	CHECK(le(f + 98, 2) > 1000);			/* no C3 */
	/* IAPC_BOOT_ARCH: legacy devices, 8042, VGA not present; MSI allowed. */
	CHECK_EQ(le(f + 109, 2), 0x0007);
	/*
	 * Flags: WBINVD (0), PROC_C1 (2), SLP_BUTTON (5), RESET_REG_SUP (10);
	 * clear: PWR_BUTTON (4), TMR_VAL_EXT (8), HW_REDUCED_ACPI (20).
	 */
	CHECK_EQ(le(f + 112, 4), 0x425);
	/* RESET_REG: system I/O, 8 bits at KR_PORT_RESET; RESET_VALUE. */
	CHECK(f[116] == 1 && f[117] == 8 && f[118] == 0);
	CHECK_EQ(le(f + 120, 8), KR_PORT_RESET);
	CHECK_EQ(f[128], KR_RESET_VALUE);
	/* X_PM1a_EVT_BLK, X_PM1a_CNT_BLK, X_PM_TMR_BLK: system I/O, widths 32/16/32. */
	CHECK(f[148] == 1 && f[149] == 32 && le(f + 152, 8) == KR_PORT_PM1A_EVT);
	CHECK(f[172] == 1 && f[173] == 16 && le(f + 176, 8) == KR_PORT_PM1A_CNT);
	CHECK(f[208] == 1 && f[209] == 32 && le(f + 212, 8) == KR_PORT_PM_TMR);
	/* X_PM1b_EVT (160), X_PM1b_CNT (184), X_PM2 (196), X_GPE0/1, SLEEP_*: absent. */
	for (unsigned int off = 160; off < 172; off++)
		CHECK_EQ(f[off] | f[off + 24] | f[off + 36], 0);
	for (unsigned int off = 220; off < 268; off++)
		CHECK_EQ(f[off], 0);

	/* Without the PS/2 controller: no 8042 bit, no KBD device. */
	CHECK(dsdt_has(mem, "KBD_", 4));
	cfg.have_i8042 = false;
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), 0);
	f = find_table(mem, "FACP");
	CHECK(f && le(f + 109, 2) == 0x0005);
	CHECK(!dsdt_has(mem, "KBD_", 4));
out:
	free(mem);
}

/* The MADT for n vCPUs, entry by entry. */
static void check_madt(unsigned int n)
{
	struct kr_acpi_config cfg = cfg_2;
	unsigned int nlapic = 0, nioapic = 0, niso = 0, nnmi = 0, len, off;
	uint8_t *mem = new_mem();
	const uint8_t *m;
	bool iso0 = false, iso9 = false;

	cfg.nr_vcpus = n;
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), 0);
	m = find_table(mem, "APIC");
	CHECK(m != NULL);
	if (!m)
		goto out;
	len = le(m + 4, 4);
	CHECK_EQ(len, 44 + 8 * n + 12 + 2 * 10 + 6);
	CHECK_EQ(le(m + 36, 4), KR_LAPIC_ADDR);
	CHECK_EQ(le(m + 40, 4), 1);			/* PCAT_COMPAT */
	for (off = 44; off + 2 <= len && m[off + 1] >= 2 && off + m[off + 1] <= len;
	     off += m[off + 1]) {
		const uint8_t *e = m + off;

		switch (e[0]) {
		case 0:		/* Processor Local APIC: UID = APIC ID = index, enabled */
			CHECK_EQ(e[1], 8);
			CHECK_EQ(e[2], nlapic);
			CHECK_EQ(e[3], nlapic);
			CHECK_EQ(le(e + 4, 4), 1);
			nlapic++;
			break;
		case 1:		/* I/O APIC */
			CHECK_EQ(e[1], 12);
			CHECK_EQ(e[2], n);
			CHECK_EQ(le(e + 4, 4), KR_IOAPIC_ADDR);
			CHECK_EQ(le(e + 8, 4), 0);
			nioapic++;
			break;
		case 2:		/* Interrupt Source Override */
			CHECK_EQ(e[1], 10);
			CHECK_EQ(e[2], 0);
			if (e[3] == 0)
				iso0 = le(e + 4, 4) == KR_GSI_PIT && le(e + 8, 2) == 0;
			if (e[3] == 9)	/* level (3 << 2), active high (1) */
				iso9 = le(e + 4, 4) == KR_GSI_SCI && le(e + 8, 2) == 0x000d;
			niso++;
			break;
		case 4:		/* Local APIC NMI: all processors, LINT1 */
			CHECK_EQ(e[1], 6);
			CHECK_EQ(e[2], 0xff);
			CHECK_EQ(e[5], 1);
			nnmi++;
			break;
		default:
			CHECK(!"unexpected MADT entry");
		}
	}
	CHECK_EQ(off, len);
	CHECK_EQ(nlapic, n);
	CHECK_EQ(nioapic, 1);
	CHECK_EQ(niso, 2);
	CHECK(iso0 && iso9);
	CHECK_EQ(nnmi, 1);
out:
	free(mem);
}

KR_TEST(acpi_madt)
{
	check_madt(1);
	check_madt(2);
	check_madt(64);
	check_madt(KR_ACPI_MAX_VCPUS);
}

KR_TEST(acpi_mcfg)
{
	uint8_t *mem = new_mem();
	const uint8_t *m;

	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg_2), 0);
	m = find_table(mem, "MCFG");
	CHECK(m != NULL);
	if (m) {
		CHECK_EQ(le(m + 4, 4), 60);
		CHECK_EQ(le(m + 44, 8), KR_ECAM_BASE);
		CHECK_EQ(le(m + 52, 2), 0);		/* segment */
		CHECK_EQ(m[54], 0);			/* start bus */
		CHECK_EQ(m[55], KR_ECAM_BUSES - 1);	/* end bus */
	}
	free(mem);
}

KR_TEST(acpi_dsdt)
{
	/* Name (\_S5, Package (4) { 5, 5, 0, 0 }) with KR_SLP_TYP_S5 = 5 */
	static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				      0x0a, KR_SLP_TYP_S5, 0x0a, KR_SLP_TYP_S5, 0x00, 0x00 };
	/* QWordMemory producer from 1 TiB, 64 GiB long: min and max */
	static const uint8_t qw[] = { 0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
				      0, 0, 0, 0, 0, 0x01, 0, 0,
				      0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0, 0 };
	struct kr_acpi_config cfg = cfg_2;
	uint8_t *mem = new_mem();

	CHECK_EQ(KR_SLP_TYP_S5 > 1 && KR_SLP_TYP_S5 < 256, 1);	/* encoded as bytes above */
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), 0);
	CHECK(dsdt_has(mem, s5, sizeof(s5)));
	CHECK(dsdt_has(mem, "PCI0", 4));
	CHECK(dsdt_has(mem, "_PRT", 4));
	CHECK(dsdt_has(mem, "COM1", 4));
	CHECK(dsdt_has(mem, "MRES", 4));
	CHECK(!dsdt_has(mem, qw, 4));		/* no 64-bit window */

	cfg.mmio64_base = 1ull << 40;
	cfg.mmio64_size = 1ull << 36;
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), 0);
	CHECK(dsdt_has(mem, qw, sizeof(qw)));
	free(mem);
}

static bool area_is_zero(const uint8_t *mem)
{
	for (uint64_t a = KR_BIOS_START; a < KR_BIOS_END; a++)
		if (mem[a])
			return false;
	return true;
}

static bool untouched(const uint8_t *mem)
{
	for (uint64_t a = 0; a < MEM_SIZE; a++)
		if (mem[a] != GARBAGE)
			return false;
	return true;
}

KR_TEST(acpi_errors)
{
	struct kr_acpi_config cfg;
	uint8_t *mem = new_mem();
	const uint8_t *x;
	uint64_t top = 0;
	unsigned int n;

	/* Configurations the tables cannot describe: nothing written. */
	cfg = cfg_2;
	cfg.nr_vcpus = 0;
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), -EINVAL);
	cfg.nr_vcpus = KR_ACPI_MAX_VCPUS + 1;
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), -EINVAL);
	cfg.nr_vcpus = ~0u;
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), -EINVAL);
	cfg = cfg_2;
	cfg.ram_below_4g = KR_PCI_HOLE + 0x1000;
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), -EINVAL);
	cfg = cfg_2;
	cfg.ram_above_4g = 8ull << 30;
	cfg.mmio64_base = KR_HIGHMEM_BASE + (4ull << 30);	/* inside RAM */
	cfg.mmio64_size = 1ull << 30;
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), -EINVAL);
	cfg.mmio64_base = ~0ull - 0x1000;			/* wraps */
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), -EINVAL);
	cfg.ram_above_4g = ~0ull;				/* RAM end wraps */
	cfg.mmio64_size = 0;
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), -EINVAL);
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, NULL), -EINVAL);
	CHECK_EQ(kr_acpi_build(NULL, MEM_SIZE, &cfg_2), -EINVAL);
	CHECK_EQ(kr_acpi_build_below(mem, MEM_SIZE, &cfg_2, KR_BIOS_END + 1), -EINVAL);
	/* Memory that stops short of KR_BIOS_END. */
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE - 1, &cfg_2), -ENOSPC);
	CHECK_EQ(kr_acpi_build(mem, 0, &cfg_2), -ENOSPC);
	CHECK(untouched(mem));

	/* The largest machine fits, exactly up to its last table and no further. */
	cfg = cfg_2;
	cfg.nr_vcpus = KR_ACPI_MAX_VCPUS;
	cfg.mmio64_base = 1ull << 40;
	cfg.mmio64_size = 1ull << 36;
	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, &cfg), 0);
	x = xsdt_of(mem);
	CHECK(x != NULL);
	if (x) {
		const uint8_t *r = table_at(mem, le(mem + KR_RSDP_ADDR + 16, 4), "RSDT");

		/* The RSDT is written last. */
		CHECK(r != NULL);
		top = r ? (uint64_t)(r - mem) + le(r + 4, 4) : 0;
		CHECK(top > (uint64_t)(x - mem));
	}
	CHECK_EQ(kr_acpi_build_below(mem, MEM_SIZE, &cfg, top), 0);
	CHECK_EQ(scan_rsdp(mem, &n), KR_RSDP_ADDR);
	CHECK_EQ(kr_acpi_build_below(mem, MEM_SIZE, &cfg, top - 1), -ENOSPC);
	/* A failed build leaves no RSDP and no half-written tables behind. */
	CHECK_EQ(scan_rsdp(mem, &n), 0);
	CHECK(area_is_zero(mem));
	CHECK_EQ(kr_acpi_build_below(mem, MEM_SIZE, &cfg, KR_ACPI_START), -ENOSPC);
	CHECK_EQ(kr_acpi_build_below(mem, MEM_SIZE, &cfg, 0), -ENOSPC);
	CHECK(area_is_zero(mem));
	free(mem);
}

/* ---- acpica-tools ---------------------------------------------------------------------- */

static bool in_path(const char *tool)
{
	const char *path = getenv("PATH");
	char buf[4096];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		int len = snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, tool);

		if (n && len < (int)sizeof(buf) && !access(buf, X_OK))
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/* argv[] run in dir with stdout and stderr to log: its exit status, -1 if it failed to. */
static int run(const char *dir, const char *log, const char *const argv[])
{
	struct timespec tick = { 0, 2 * 1000 * 1000 };
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY), fd;

		if (in >= 0 && !chdir(dir) &&
		    (fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0) {
			dup2(in, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			execvp(argv[0], (char *const *)argv);
		}
		_exit(127);
	}
	for (int i = 0; i < 15000; i++) {	/* 30 s */
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (r < 0)
			return -1;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static bool write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[512];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return false;
	ok = fwrite(p, 1, n, f) == n;
	return !fclose(f) && ok;
}

/* The whole file, NUL-terminated, or NULL. */
static char *read_file(const char *dir, const char *name, size_t *len)
{
	char path[512], *buf = NULL;
	size_t n = 0, cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			char *p = realloc(buf, cap + 65536);

			if (!p)
				break;
			buf = p;
			cap += 65536;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);

		n += r;
		if (!r)
			break;
	}
	fclose(f);
	if (buf)
		buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static void rm_dir(const char *dir)
{
	static const char *const exts[] = { "dat", "dsl", "aml", "asl", "log" };
	static const char *const names[] = { "dsdt", "facp", "apic", "mcfg", "xsdt", "rsdt",
					     "facs", "fixture", "exec" };
	char path[512];

	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++) {
		for (unsigned int j = 0; j < ARRAY_SIZE(exts); j++) {
			snprintf(path, sizeof(path), "%s/%s.%s", dir, names[i], exts[j]);
			unlink(path);
		}
	}
	CHECK_EQ(rmdir(dir), 0);	/* nothing else left behind */
}

/*
 * The DSDT as ASL, written independently of aml.c: iasl -on (no name
 * optimisation, so \_S5 stays absolute) must compile it to our AML, byte
 * for byte past the header.
 */
static bool write_fixture(const char *dir, const struct kr_acpi_config *cfg)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/fixture.asl", dir);
	f = fopen(path, "w");
	if (!f)
		return false;
	fprintf(f,
		"DefinitionBlock (\"\", \"DSDT\", 2, \"%s\", \"%s\", 1)\n{\n"
		"  Name (\\_S5, Package (4) { %d, %d, 0, 0 })\n"
		"  Scope (\\_SB) {\n"
		"    Device (PCI0) {\n"
		"      Name (_HID, EisaId (\"PNP0A08\"))\n"
		"      Name (_CID, EisaId (\"PNP0A03\"))\n"
		"      Name (_UID, 0)\n"
		"      Name (_SEG, 0)\n"
		"      Name (_BBN, 0)\n"
		"      Name (_CRS, ResourceTemplate () {\n"
		"        WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode,\n"
		"                       0, 0, %d, 0, %d)\n"
		"        IO (Decode16, 0x%x, 0x%x, 1, 8)\n"
		"        WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,\n"
		"                0, 0, 0x%x, 0, 0x%x)\n"
		"        WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange,\n"
		"                0, 0x%x, 0xFFFF, 0, 0x%x)\n"
		"        DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,\n"
		"                     NonCacheable, ReadWrite, 0, 0x%llx, 0x%llx, 0, 0x%llx)\n",
		KR_ACPI_OEM_ID, KR_ACPI_OEM_TABLE_ID, KR_SLP_TYP_S5, KR_SLP_TYP_S5,
		KR_ECAM_BUSES - 1, KR_ECAM_BUSES, KR_PORT_PCI_CONFIG, KR_PORT_PCI_CONFIG,
		KR_PORT_PCI_CONFIG - 1, KR_PORT_PCI_CONFIG, KR_PORT_PCI_CONFIG + 8,
		0x10000 - (KR_PORT_PCI_CONFIG + 8), KR_PCI_MMIO32_BASE, KR_PCI_MMIO32_END - 1,
		KR_PCI_MMIO32_END - KR_PCI_MMIO32_BASE);
	if (cfg->mmio64_size)
		fprintf(f,
			"        QWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,\n"
			"                     NonCacheable, ReadWrite,\n"
			"                     0, 0x%llx, 0x%llx, 0, 0x%llx)\n",
			(unsigned long long)cfg->mmio64_base,
			(unsigned long long)(cfg->mmio64_base + cfg->mmio64_size - 1),
			(unsigned long long)cfg->mmio64_size);
	fprintf(f, "      })\n      Name (_PRT, Package () {\n");
	for (unsigned int slot = 0; slot < 32; slot++)
		for (unsigned int pin = 0; pin < 4; pin++)
			fprintf(f, "        Package () { 0x%04xFFFF, %u, 0, %u },\n", slot, pin,
				KR_GSI_PCI_INTA + (slot + pin) % 4);
	fprintf(f,
		"      })\n    }\n"
		"    Device (COM1) {\n"
		"      Name (_HID, EisaId (\"PNP0501\"))\n"
		"      Name (_CRS, ResourceTemplate () {\n"
		"        IO (Decode16, 0x%x, 0x%x, 1, 8)\n"
		"        IRQNoFlags () { %d }\n"
		"      })\n    }\n"
		"    Device (RTC) {\n"
		"      Name (_HID, EisaId (\"PNP0B00\"))\n"
		"      Name (_CRS, ResourceTemplate () {\n"
		"        IO (Decode16, 0x%x, 0x%x, 1, 2)\n"
		"        IRQNoFlags () { %d }\n"
		"      })\n    }\n",
		KR_PORT_COM1, KR_PORT_COM1, KR_GSI_COM1, KR_PORT_RTC, KR_PORT_RTC, KR_GSI_RTC);
	if (cfg->have_i8042)
		fprintf(f,
			"    Device (KBD) {\n"
			"      Name (_HID, EisaId (\"PNP0303\"))\n"
			"      Name (_CRS, ResourceTemplate () {\n"
			"        IO (Decode16, 0x%x, 0x%x, 1, 1)\n"
			"        IO (Decode16, 0x%x, 0x%x, 1, 1)\n"
			"        IRQNoFlags () { %d }\n"
			"      })\n    }\n",
			KR_PORT_I8042_DATA, KR_PORT_I8042_DATA, KR_PORT_I8042_CMD,
			KR_PORT_I8042_CMD, KR_GSI_I8042);
	fprintf(f,
		"    Device (MRES) {\n"
		"      Name (_HID, EisaId (\"PNP0C02\"))\n"
		"      Name (_CRS, ResourceTemplate () {\n"
		"        IO (Decode16, 0x%x, 0x%x, 1, 0x%x)\n"
		"        IO (Decode16, 0x%x, 0x%x, 1, 0x0C)\n"
		"        IO (Decode16, 0x%x, 0x%x, 1, 1)\n"
		"        IO (Decode16, 0x%x, 0x%x, 1, 1)\n"
		"        DWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed,\n"
		"                     NonCacheable, ReadWrite, 0, 0x%llx, 0x%llx, 0, 0x%llx)\n"
		"      })\n    }\n  }\n}\n",
		KR_PORT_PM_BASE, KR_PORT_PM_BASE, KR_PORT_PM_LEN, KR_PORT_FW_CFG, KR_PORT_FW_CFG,
		KR_PORT_DEBUG_EXIT, KR_PORT_DEBUG_EXIT, KR_PORT_POST, KR_PORT_POST,
		KR_ECAM_BASE, KR_ECAM_BASE + KR_ECAM_SIZE - 1, KR_ECAM_SIZE);
	return !fclose(f);
}

/* iasl's log says it compiled with no error and no warning. */
static bool iasl_clean(const char *dir, const char *log)
{
	char *s = read_file(dir, log, NULL);
	bool ok = s && strstr(s, " 0 Errors,") && strstr(s, " 0 Warnings,");

	if (!ok)
		printf("#   iasl: %s\n", s ? s : "(no log)");
	free(s);
	return ok;
}

/* Equal past the checksum (9) and the compiler ID and revision (28-35), which iasl sets. */
static bool same_table(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	if (na != nb || na < 36)
		return false;
	return !memcmp(a, b, 9) && !memcmp(a + 10, b + 10, 18) && !memcmp(a + 36, b + 36, na - 36);
}

static void iasl_check(const struct kr_acpi_config *cfg)
{
	static const char *const names[] = { "dsdt", "facp", "apic", "mcfg", "xsdt", "rsdt",
					     "facs" };
	static const char *const dsdt_names[] = { "Name (\\_S5, Package", "Device (PCI0)",
						  "Name (_PRT, Package (0x80)", "Device (COM1)",
						  "Device (RTC)", "Device (MRES)",
						  "WordBusNumber (ResourceProducer" };
	const uint8_t *tables[ARRAY_SIZE(names)];
	char dir[] = "/tmp/kr-acpi-XXXXXX", name[64], log[64];
	uint8_t *mem = new_mem();
	const uint8_t *f;
	char *s, *aml;
	size_t n;

	CHECK_EQ(kr_acpi_build(mem, MEM_SIZE, cfg), 0);
	f = find_table(mem, "FACP");
	CHECK(f != NULL);
	if (!f || !mkdtemp(dir)) {
		CHECK(!"temporary directory");
		free(mem);
		return;
	}
	tables[0] = dsdt_of(mem);
	tables[1] = f;
	tables[2] = find_table(mem, "APIC");
	tables[3] = find_table(mem, "MCFG");
	tables[4] = xsdt_of(mem);
	tables[5] = table_at(mem, le(mem + KR_RSDP_ADDR + 16, 4), "RSDT");
	tables[6] = mem + le(f + 36, 4);	/* the FACS has no checksum */

	for (unsigned int i = 0; i < ARRAY_SIZE(names); i++) {
		const char *dis[] = { "iasl", "-vs", "-d", name, NULL };
		const char *comp[] = { "iasl", "-vs", "-on", name, NULL };

		CHECK(tables[i] != NULL);
		if (!tables[i])
			continue;
		snprintf(name, sizeof(name), "%s.dat", names[i]);
		CHECK(write_file(dir, name, tables[i], le(tables[i] + 4, 4)));
		/* Disassemble: iasl flags what it cannot decode in the output. */
		snprintf(log, sizeof(log), "%s.log", names[i]);
		CHECK_EQ(run(dir, log, dis), 0);
		snprintf(name, sizeof(name), "%s.dsl", names[i]);
		s = read_file(dir, name, NULL);
		CHECK(s != NULL);
		if (s && (strstr(s, "Incorrect") || strstr(s, "Invalid") || strstr(s, "****") ||
			  strstr(s, "Error") || strstr(s, "Warning") || strstr(s, "Unknown"))) {
			CHECK(!"iasl -d found a problem");
			printf("#   %s:\n%s\n", name, s);
		}
		if (s && i == 0) {
			for (unsigned int j = 0; j < ARRAY_SIZE(dsdt_names); j++) {
				CHECK(strstr(s, dsdt_names[j]));
				if (!strstr(s, dsdt_names[j]))
					printf("#   no \"%s\" in the DSDT\n", dsdt_names[j]);
			}
			CHECK(!strstr(s, "Device (KBD)") == !cfg->have_i8042);
			CHECK(!strstr(s, "QWordMemory") == !cfg->mmio64_size);
		}
		free(s);
		/* Compile it back: every field must survive the round trip. */
		CHECK_EQ(run(dir, log, comp), 0);
		CHECK(iasl_clean(dir, log));
		snprintf(name, sizeof(name), "%s.aml", names[i]);
		aml = read_file(dir, name, &n);
		CHECK(aml && same_table(tables[i], le(tables[i] + 4, 4), (uint8_t *)aml, n));
		free(aml);
	}

	/* The DSDT from independent ASL, compiled by iasl: the same AML. */
	if (tables[0]) {
		const char *comp[] = { "iasl", "-vs", "-on", "fixture.asl", NULL };

		CHECK(write_fixture(dir, cfg));
		CHECK_EQ(run(dir, "fixture.log", comp), 0);
		CHECK(iasl_clean(dir, "fixture.log"));
		aml = read_file(dir, "fixture.aml", &n);
		CHECK(aml && same_table(tables[0], le(tables[0] + 4, 4), (uint8_t *)aml, n));
		free(aml);
	}

	/* ACPICA, the code Linux runs, loads the FADT and the namespace. */
	if (in_path("acpiexec")) {
		const char *exec[] = { "acpiexec", "-l", "facp.dat", "dsdt.dat", "apic.dat",
				       "mcfg.dat", "facs.dat", NULL };

		CHECK_EQ(run(dir, "exec.log", exec), 0);
		s = read_file(dir, "exec.log", NULL);
		CHECK(s && strstr(s, "successfully acquired and loaded"));
		CHECK(s && strstr(s, cfg->have_i8042 ? " 5 Devices" : " 4 Devices"));
		if (s && (strstr(s, "Warning") || strstr(s, "Error") || strstr(s, "Bug"))) {
			CHECK(!"acpiexec complained");
			printf("#   acpiexec:\n%s\n", s);
		}
		free(s);
	} else {
		printf("# skip acpiexec: not installed\n");
	}
	rm_dir(dir);
	free(mem);
}

KR_TEST(acpi_iasl)
{
	struct kr_acpi_config big = {
		.nr_vcpus = KR_ACPI_MAX_VCPUS,
		.ram_below_4g = KR_PCI_HOLE,
		.ram_above_4g = 64ull << 30,
		.mmio64_base = 1ull << 40,
		.mmio64_size = 1ull << 36,
		.have_i8042 = false,
	};
	int fds;

	if (!in_path("iasl")) {
		printf("# skip acpi_iasl: iasl (acpica-tools) not installed\n");
		return;
	}
	fds = t_count_fds();
	iasl_check(&cfg_2);
	iasl_check(&big);
	CHECK_EQ(t_count_fds(), fds);
}
