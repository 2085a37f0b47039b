// SPDX-License-Identifier: GPL-2.0
/*
 * qmp: one QMP session for make bench's migration figures, in the test
 * machine: khv-run's control socket and QEMU's -qmp speak the same
 * protocol (Documentation/khv/khv-run-control.rst).
 *
 *   qmp SOCKET JSON...
 *
 * Connects to the Unix socket SOCKET, reads the greeting, negotiates
 * (qmp_capabilities), then sends each JSON command and prints its reply
 * (a "return" or an "error" line; events are skipped) on stdout.  Exit
 * status 1 when the socket cannot be reached or a reply does not come
 * within 30 s, 0 otherwise (an error reply is the caller's to read).
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char in[1 << 16];
static size_t have;

/* The next line from fd into line (NUL-terminated): 0, or -1. */
static int read_line(int fd, char *line, size_t cap)
{
	for (;;) {
		char *nl = memchr(in, '\n', have);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			size_t len = (size_t)(nl - in);

			if (len >= cap)
				len = cap - 1;
			memcpy(line, in, len);
			line[len] = 0;
			have -= (size_t)(nl - in) + 1;
			memmove(in, nl + 1, have);
			return 0;
		}
		if (have == sizeof(in) || poll(&p, 1, 30000) != 1)
			return -1;
		n = read(fd, in + have, sizeof(in) - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
}

/* Send cmd and read lines until a reply (not an event): 0, or -1. */
static int exchange(int fd, const char *cmd, char *line, size_t cap)
{
	if (write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) || write(fd, "\n", 1) != 1)
		return -1;
	do {
		if (read_line(fd, line, cap))
			return -1;
	} while (strstr(line, "\"event\""));
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char line[1 << 16];
	int fd;

	if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: qmp SOCKET JSON...\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    read_line(fd, line, sizeof(line)) ||
	    exchange(fd, "{\"execute\": \"qmp_capabilities\"}", line, sizeof(line))) {
		fprintf(stderr, "qmp: %s: no QMP server\n", argv[1]);
		return 1;
	}
	for (int i = 2; i < argc; i++) {
		if (exchange(fd, argv[i], line, sizeof(line))) {
			fprintf(stderr, "qmp: %s: no reply to %s\n", argv[1], argv[i]);
			return 1;
		}
		printf("%s\n", line);
	}
	close(fd);
	return 0;
}
