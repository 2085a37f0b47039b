/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of the kernel API for the irq/ models to build and run in
 * userspace: fixed-size types, errno values, fls(), mul_u64_u32_div(), and a
 * spinlock whose only job is to let lockdep_assert_held() check the locking
 * contract.
 */
#ifndef KHV_IRQ_SHIM_H
#define KHV_IRQ_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
/* The uAPI header's types. */
typedef uint8_t __u8;
typedef uint16_t __u16;
typedef uint32_t __u32;
typedef uint64_t __u64;
typedef int32_t __s32;
typedef int64_t __s64;

#define EINVAL		22
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static inline u64 mul_u64_u32_div(u64 a, u32 mul, u32 divisor)
{
	return (u64)((__uint128_t)a * mul / divisor);
}

static inline int fls(unsigned int x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

struct shim_spinlock {
	bool held;
};

#define spinlock_t		struct shim_spinlock
#define spin_lock_init(l)	((l)->held = false)
#define spin_lock(l)		((l)->held = true)
#define spin_unlock(l)		((l)->held = false)

void shim_not_held(const char *file, int line);
#define lockdep_assert_held(l)	do { if (!(l)->held) shim_not_held(__FILE__, __LINE__); } while (0)

#endif
