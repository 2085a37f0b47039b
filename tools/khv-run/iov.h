/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Byte ranges of a scatter list: a descriptor chain's buffers as iovecs
 * (virtqueue.h), seen as one run of bytes.  Positions and lengths past the
 * end are cut short, never an overrun.
 */
#ifndef KHV_RUN_IOV_H
#define KHV_RUN_IOV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * Bytes [pos, pos + len) of iov[0..n) as iovecs in out (room for n): how
 * many.  UINT64_MAX as len: to the end.
 */
unsigned int kr_iov_slice(const struct iovec *iov, unsigned int n, uint64_t pos, uint64_t len,
			  struct iovec *out);
/* Copy up to len bytes between buf and iov[0..n) from pos on: how many. */
uint64_t kr_iov_copy(const struct iovec *iov, unsigned int n, uint64_t pos, void *buf,
		     uint64_t len, bool to_iov);
/* Zero bytes [pos, pos + len) of iov[0..n). */
void kr_iov_zero(const struct iovec *iov, unsigned int n, uint64_t pos, uint64_t len);

#endif
