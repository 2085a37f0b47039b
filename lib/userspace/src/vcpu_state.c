// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vCPU state ioctls: registers, XSAVE, MSRs, CPUID, event injection and
 * exit statistics.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A vCPU ioctl whose argument is a whole structure: 0 or -errno. */
static int libkhv_vcpu_ioctl(struct khv_vcpu *vcpu, unsigned long req, const void *arg)
{
	int ret = LIBKHV_CHECK_VCPU(vcpu);

	if (ret)
		return ret;
	if (!arg)
		return -EINVAL;
	/* The kernel only reads the _IOW structures: casting const away is safe. */
	ret = libkhv_ioctl_ptr(vcpu->fd, req, (void *)arg);
	return ret < 0 ? ret : 0;
}

KHV_EXPORT int khv_vcpu_get_regs(struct khv_vcpu *vcpu, struct khv_regs *regs)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_GET_REGS, regs);
}

KHV_EXPORT int khv_vcpu_set_regs(struct khv_vcpu *vcpu, const struct khv_regs *regs)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_SET_REGS, regs);
}

KHV_EXPORT int khv_vcpu_get_sregs(struct khv_vcpu *vcpu, struct khv_sregs *sregs)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_GET_SREGS, sregs);
}

KHV_EXPORT int khv_vcpu_set_sregs(struct khv_vcpu *vcpu, const struct khv_sregs *sregs)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_SET_SREGS, sregs);
}

KHV_EXPORT int khv_vcpu_get_xsave(struct khv_vcpu *vcpu, struct khv_xsave *xsave)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_GET_XSAVE, xsave);
}

KHV_EXPORT int khv_vcpu_set_xsave(struct khv_vcpu *vcpu, const struct khv_xsave *xsave)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_SET_XSAVE, xsave);
}

/* struct khv_msrs with room for exactly one entry, on the stack. */
union libkhv_one_msr {
	struct khv_msrs msrs;
	unsigned char bytes[sizeof(struct khv_msrs) + sizeof(struct khv_msr_entry)];
};

KHV_EXPORT int khv_vcpu_get_msr(struct khv_vcpu *vcpu, uint32_t index, uint64_t *value)
{
	union libkhv_one_msr m;
	int ret = LIBKHV_CHECK_VCPU(vcpu);

	if (ret)
		return ret;
	if (!value)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.msrs.nmsrs = 1;
	m.msrs.entries[0].index = index;
	ret = libkhv_ioctl_ptr(vcpu->fd, KHV_GET_MSRS, &m);
	if (ret < 0)
		return ret;
	/* 0 entries processed: khv does not know this MSR. */
	if (ret == 0)
		return -ENOENT;
	*value = m.msrs.entries[0].data;
	return 0;
}

KHV_EXPORT int khv_vcpu_set_msr(struct khv_vcpu *vcpu, uint32_t index, uint64_t value)
{
	union libkhv_one_msr m;
	int ret = LIBKHV_CHECK_VCPU(vcpu);

	if (ret)
		return ret;
	memset(&m, 0, sizeof(m));
	m.msrs.nmsrs = 1;
	m.msrs.entries[0].index = index;
	m.msrs.entries[0].data = value;
	ret = libkhv_ioctl_ptr(vcpu->fd, KHV_SET_MSRS, &m);
	if (ret < 0)
		return ret;
	/* 0 entries processed: unknown MSR or a value khv refuses. */
	return ret == 0 ? -EINVAL : 0;
}

KHV_EXPORT int khv_vcpu_set_cpuid(struct khv_vcpu *vcpu, const struct khv_cpuid_entry *e,
				  uint32_t n)
{
	struct khv_cpuid *c;
	int ret = LIBKHV_CHECK_VCPU(vcpu);

	if (ret)
		return ret;
	if (n && !e)
		return -EINVAL;
	if (n > KHV_MAX_CPUID_ENTRIES)
		return -E2BIG;
	c = calloc(1, sizeof(*c) + (size_t)n * sizeof(*e));
	if (!c)
		return -ENOMEM;
	c->nent = n;
	if (n)
		memcpy(c->entries, e, (size_t)n * sizeof(*e));
	ret = libkhv_ioctl_ptr(vcpu->fd, KHV_SET_CPUID, c);
	free(c);
	return ret < 0 ? ret : 0;
}

KHV_EXPORT int khv_vcpu_get_cpuid(struct khv_vcpu *vcpu, struct khv_cpuid_entry *out,
				  uint32_t max, uint32_t *nent)
{
	int ret = LIBKHV_CHECK_VCPU(vcpu);

	if (ret)
		return ret;
	return libkhv_get_array(vcpu->fd, KHV_GET_CPUID, sizeof(*out),
				KHV_MAX_CPUID_ENTRIES, out, max, nent);
}

/* Rejects what KHV_INJECT_EVENT would refuse, before the ioctl. */
static int libkhv_event_valid(uint8_t type, uint8_t vector)
{
	switch (type) {
	case KHV_EVENT_EXCEPTION:
		/* Exceptions are vectors 0..31; 2 is the NMI, which has its own type. */
		return vector <= 31 && vector != 2;
	case KHV_EVENT_EXTINT:
		/* Vectors below 16 would look like exceptions to the guest. */
		return vector >= 16;
	default:
		return 1;
	}
}

static int libkhv_inject(struct khv_vcpu *vcpu, uint8_t type, uint8_t vector,
			 int has_error_code, uint32_t error_code)
{
	struct khv_event ev;
	int ret = LIBKHV_CHECK_VCPU(vcpu);

	if (ret)
		return ret;
	if (!libkhv_event_valid(type, vector))
		return -EINVAL;
	memset(&ev, 0, sizeof(ev));	/* pad and reserved must be zero */
	ev.type = type;
	ev.vector = vector;
	ev.has_error_code = has_error_code ? 1 : 0;
	ev.error_code = has_error_code ? error_code : 0;
	ret = libkhv_ioctl_ptr(vcpu->fd, KHV_INJECT_EVENT, &ev);
	return ret < 0 ? ret : 0;
}

KHV_EXPORT int khv_vcpu_inject_exception(struct khv_vcpu *vcpu, uint8_t vector,
					 int has_error_code, uint32_t error_code)
{
	return libkhv_inject(vcpu, KHV_EVENT_EXCEPTION, vector, has_error_code, error_code);
}

KHV_EXPORT int khv_vcpu_inject_interrupt(struct khv_vcpu *vcpu, uint8_t vector)
{
	return libkhv_inject(vcpu, KHV_EVENT_EXTINT, vector, 0, 0);
}

/* The vector of an NMI is architecturally 2; khv needs only the type. */
KHV_EXPORT int khv_vcpu_inject_nmi(struct khv_vcpu *vcpu)
{
	return libkhv_inject(vcpu, KHV_EVENT_NMI, 2, 0, 0);
}

KHV_EXPORT int khv_vcpu_set_study(struct khv_vcpu *vcpu, const struct khv_study *study)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_SET_STUDY, study);
}

KHV_EXPORT int khv_vcpu_get_study(struct khv_vcpu *vcpu, struct khv_study *study)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_GET_STUDY, study);
}

KHV_EXPORT int khv_vcpu_get_exit_stats(struct khv_vcpu *vcpu, struct khv_exit_stat *out,
				       uint32_t max, uint32_t *nent)
{
	uint32_t i;
	int ret = LIBKHV_CHECK_VCPU(vcpu);

	if (ret)
		return ret;
	/* At most one counter per hardware code slot, exit reason and KHV_KSTAT_*. */
	ret = libkhv_get_array(vcpu->fd, KHV_GET_EXIT_STATS, sizeof(*out),
			       KHV_MAX_EXIT_STATS + KHV_EXIT_MAX + KHV_KSTAT_MAX, out, max, nent);
	if (ret)
		return ret;
	/* Callers print the names: make sure each one ends inside its field. */
	for (i = 0; i < *nent; i++)
		out[i].name[sizeof(out[i].name) - 1] = '\0';
	return 0;
}

KHV_EXPORT int khv_vcpu_get_mp_state(struct khv_vcpu *vcpu, uint32_t *state)
{
	struct khv_mp_state mp = { 0 };
	int ret = LIBKHV_CHECK_VCPU(vcpu);

	if (ret)
		return ret;
	if (!state)
		return -EINVAL;
	ret = libkhv_ioctl_ptr(vcpu->fd, KHV_GET_MP_STATE, &mp);
	if (!ret)
		*state = mp.mp_state;
	return ret;
}

KHV_EXPORT int khv_vcpu_set_mp_state(struct khv_vcpu *vcpu, uint32_t state)
{
	struct khv_mp_state mp = { .mp_state = state };
	int ret = LIBKHV_CHECK_VCPU(vcpu);

	if (ret)
		return ret;
	return libkhv_ioctl_ptr(vcpu->fd, KHV_SET_MP_STATE, &mp);
}

KHV_EXPORT int khv_vcpu_get_events(struct khv_vcpu *vcpu, struct khv_vcpu_events *events)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_GET_VCPU_EVENTS, events);
}

KHV_EXPORT int khv_vcpu_set_events(struct khv_vcpu *vcpu, const struct khv_vcpu_events *events)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_SET_VCPU_EVENTS, events);
}

KHV_EXPORT int khv_vcpu_get_lapic(struct khv_vcpu *vcpu, struct khv_lapic_state *state)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_GET_LAPIC, state);
}

KHV_EXPORT int khv_vcpu_set_lapic(struct khv_vcpu *vcpu, const struct khv_lapic_state *state)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_SET_LAPIC, state);
}

KHV_EXPORT int khv_vcpu_get_debugregs(struct khv_vcpu *vcpu, struct khv_debugregs *d)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_GET_DEBUGREGS, d);
}

KHV_EXPORT int khv_vcpu_set_debugregs(struct khv_vcpu *vcpu, const struct khv_debugregs *d)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_SET_DEBUGREGS, d);
}

KHV_EXPORT int khv_vcpu_get_xcrs(struct khv_vcpu *vcpu, struct khv_xcrs *x)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_GET_XCRS, x);
}

KHV_EXPORT int khv_vcpu_set_xcrs(struct khv_vcpu *vcpu, const struct khv_xcrs *x)
{
	return libkhv_vcpu_ioctl(vcpu, KHV_SET_XCRS, x);
}
