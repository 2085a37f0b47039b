/* SPDX-License-Identifier: GPL-2.0 */
/* READ_ONCE and WRITE_ONCE: one untorn access, as in the kernel. */
#ifndef KHV_IRQ_SHIM_COMPILER_H
#define KHV_IRQ_SHIM_COMPILER_H

#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

#endif
