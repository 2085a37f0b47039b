// SPDX-License-Identifier: GPL-2.0
/* Test helpers for fds and the I/O loop (tio.h). */
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "tio.h"

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

void *loop_main(void *arg)
{
	kr_loop_run(arg);
	return NULL;
}

void loop_stop(struct kr_loop *l, pthread_t th)
{
	kr_loop_stop(l);
	pthread_join(th, NULL);
	kr_loop_free(l);
}

size_t read_some(int fd, void *buf, size_t n, int timeout_ms)
{
	size_t got = 0;

	for (int idle = 0; got < n && idle < timeout_ms;) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r > 0) {
			got += r;
			idle = 0;
		} else {
			sleep_ms(1);
			idle++;
		}
	}
	return got;
}

int pending(int fd)
{
	int n = -1;

	ioctl(fd, FIONREAD, &n);
	return n;
}
