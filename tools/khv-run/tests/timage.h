/* SPDX-License-Identifier: GPL-2.0 */
/* Test helpers for image files (t_disk, t_virtio_blk). */
#ifndef KHV_RUN_TIMAGE_H
#define KHV_RUN_TIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A new file of size bytes, byte i = pattern(i); its path in path[32]. */
void make_image(char *path, uint64_t size);
/* The file's bytes [off, off + len) through a separate fd (abort on failure). */
void file_read(const char *path, uint64_t off, void *buf, size_t len);
/* The byte the test images hold at offset i. */
uint8_t pattern(uint64_t i);
/* The file's allocated 512-byte blocks (st_blocks), ~0 on error. */
uint64_t blocks(const char *path);
/* Is [off, off + len) a hole of path (SEEK_DATA finds nothing before its end)? */
bool hole(const char *path, off_t off, off_t len);
/* Do bytes [off, off + len) of the file still hold the pattern? */
bool file_pristine(const char *path, uint64_t off, size_t len);
bool all_bytes(const uint8_t *p, size_t len, uint8_t v);
/* An fdatasync stand-in that fails with EIO. */
int failing_sync(int fd);

#endif
