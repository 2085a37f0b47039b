// SPDX-License-Identifier: GPL-2.0
/* Test helpers for image files (timage.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timage.h"

void make_image(char *path, uint64_t size)
{
	uint8_t buf[4096];
	int fd;

	strcpy(path, "/tmp/kr-img-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	for (uint64_t at = 0; at < size; at += sizeof(buf)) {
		uint64_t n = size - at < sizeof(buf) ? size - at : sizeof(buf);

		for (uint64_t i = 0; i < n; i++)
			buf[i] = pattern(at + i);
		if (pwrite(fd, buf, n, at) != (ssize_t)n)
			abort();
	}
	close(fd);
}

void file_read(const char *path, uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0 || pread(fd, buf, len, off) != (ssize_t)len)
		abort();
	close(fd);
}

uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + i / 512);
}

uint64_t blocks(const char *path)
{
	struct stat st;

	return stat(path, &st) ? ~0ull : (uint64_t)st.st_blocks;
}

bool hole(const char *path, off_t off, off_t len)
{
	int fd = open(path, O_RDONLY);
	off_t data = lseek(fd, off, SEEK_DATA);

	close(fd);
	return data < 0 || data >= off + len;
}

bool file_pristine(const char *path, uint64_t off, size_t len)
{
	uint8_t *b = malloc(len);
	bool ok = true;

	file_read(path, off, b, len);
	for (size_t i = 0; i < len && ok; i++)
		ok = b[i] == pattern(off + i);
	free(b);
	return ok;
}

bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

int failing_sync(int fd)
{
	(void)fd;
	errno = EIO;
	return -1;
}
