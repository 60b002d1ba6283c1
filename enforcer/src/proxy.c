/* SPDX-License-Identifier: Apache-2.0
 *
 * The serving proxy: how Slipway's router reaches an app whose container
 * has no network at all (Docker NetworkMode "none": loopback only).
 *
 * The local target bind-mounts a host directory into the container and sets
 * SLIPWAY_PROXY_SOCKET to a path in it. Before the workload starts, the
 * enforcer binds two Unix sockets there and forks this proxy:
 *
 *   <path>        each connection is forwarded to 127.0.0.1:$PORT inside the
 *                 container's network namespace, bytes moved with splice(2)
 *                 through a pipe per direction (no user-space copy, no
 *                 allocation per connection or byte: slots are static);
 *                 half-closes are passed on. If the app does not accept the
 *                 connection (not listening yet, or gone), the client's
 *                 connection is closed without a byte.
 *   <path>.probe  readiness: on each connection the proxy tries one TCP
 *                 connect to 127.0.0.1:$PORT and answers a single byte, '1'
 *                 (accepted) or '0', then closes. That is Knative's default
 *                 tcpSocket probe, and it cannot be fooled by the proxy
 *                 itself accepting before the app listens.
 *
 * One epoll loop, edge-triggered, non-blocking sockets, every syscall
 * checked. The number of connections is bounded (MAX_CONN, and the fd
 * limit); past it new connections are closed at once.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proxy.h"

#define MAX_CONN 1024
/* fds per connection: two sockets and two pipes */
#define FDS_PER_CONN 6
#define PROBE_TIMEOUT_MS 200
#define TAG_LISTEN UINT64_MAX
#define TAG_PROBE (UINT64_MAX - 1)

struct side {
	int fd;
	int pipe[2];     /* bytes read from fd wait here for the other side */
	size_t queued;   /* bytes in pipe */
	int eof;         /* fd has no more to read */
	int shut;        /* the other side got SHUT_WR after the last byte */
};

struct conn {
	int used;
	int connecting;  /* upstream connect(2) still in progress */
	struct side s[2]; /* [0] client (router), [1] upstream (app) */
};

static struct conn conns[MAX_CONN];
static int free_slots[MAX_CONN];
static int nfree;
static int pending[MAX_CONN]; /* closed in this batch, reusable after it */
static int npending;
static struct sockaddr_in upstream;
static int epfd = -1;

static void pwarn(int err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n = snprintf(buf, sizeof buf, "slipway-enforcer: proxy: ");

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof buf - 64)
		n = (int)sizeof buf - 64;
	if (err)
		n += snprintf(buf + n, sizeof buf - (size_t)n, ": %s", strerror(err));
	buf[n++] = '\n';
	(void)!write(STDERR_FILENO, buf, (size_t)n);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void conn_close(int idx)
{
	struct conn *c = &conns[idx];
	int d;

	for (d = 0; d < 2; d++) {
		close_fd(&c->s[d].fd);
		close_fd(&c->s[d].pipe[0]);
		close_fd(&c->s[d].pipe[1]);
	}
	c->used = 0;
	pending[npending++] = idx;
}

/* Moves what can move without blocking, both ways. -1: error (close),
 * 1: both directions finished (close), 0: wait for more events. */
static int pump(struct conn *c)
{
	int progress, d;

	do {
		progress = 0;
		for (d = 0; d < 2; d++) {
			struct side *in = &c->s[d];
			int out = c->s[1 - d].fd;
			ssize_t n;

			if (!in->eof) {
				n = splice(in->fd, NULL, in->pipe[1], NULL, 1 << 16,
					   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
				if (n > 0) {
					in->queued += (size_t)n;
					progress = 1;
				} else if (n == 0) {
					in->eof = 1;
					progress = 1;
				} else if (errno != EAGAIN && errno != EINTR) {
					return -1;
				}
			}
			if (in->queued > 0) {
				n = splice(in->pipe[0], NULL, out, NULL, in->queued,
					   SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
				if (n > 0) {
					in->queued -= (size_t)n;
					progress = 1;
				} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
					return -1;
				}
			}
			if (in->eof && in->queued == 0 && !in->shut) {
				if (shutdown(out, SHUT_WR) < 0 && errno != ENOTCONN)
					return -1;
				in->shut = 1;
			}
		}
	} while (progress);
	return c->s[0].shut && c->s[1].shut;
}

static int watch(int fd, uint64_t tag)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.u64 = tag;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* A new client: connect upstream; refused means the app is not there. */
static void conn_open(int client, int max_conn)
{
	struct conn *c;
	int idx, up, d;

	if (nfree == 0 || MAX_CONN - nfree >= max_conn) {
		close(client); /* at the bound: shed, the router retries or reports 502 */
		return;
	}
	up = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (up < 0) {
		pwarn(errno, "socket");
		close(client);
		return;
	}
	idx = free_slots[--nfree];
	c = &conns[idx];
	memset(c, 0, sizeof *c);
	c->used = 1;
	c->s[0].fd = client;
	c->s[1].fd = up;
	for (d = 0; d < 2; d++)
		c->s[d].pipe[0] = c->s[d].pipe[1] = -1;
	for (d = 0; d < 2; d++) {
		if (pipe2(c->s[d].pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
			pwarn(errno, "pipe2");
			conn_close(idx);
			return;
		}
	}
	if (connect(up, (struct sockaddr *)&upstream, sizeof upstream) < 0) {
		if (errno != EINPROGRESS) {
			/* ECONNREFUSED: the app is not listening (yet); the client sees EOF. */
			conn_close(idx);
			return;
		}
		c->connecting = 1;
	}
	if (watch(client, (uint64_t)idx << 1) < 0 || watch(up, (uint64_t)idx << 1 | 1) < 0) {
		pwarn(errno, "epoll_ctl");
		conn_close(idx);
		return;
	}
	if (!c->connecting && pump(c) != 0)
		conn_close(idx);
}

static void conn_event(int idx, int side)
{
	struct conn *c = &conns[idx];

	if (!c->used)
		return; /* closed earlier in this batch */
	if (c->connecting) {
		int soerr = 0;
		socklen_t len = sizeof soerr;

		if (side == 0)
			return; /* the client's bytes wait in its socket until upstream is there */
		if (getsockopt(c->s[1].fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
			conn_close(idx);
			return;
		}
		c->connecting = 0;
	}
	if (pump(c) != 0)
		conn_close(idx);
}

/* One TCP connect to the app: '1' if it accepts, '0' if not. */
static void probe(int client)
{
	char answer = '0';
	int up = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (up < 0) {
		pwarn(errno, "socket");
	} else if (connect(up, (struct sockaddr *)&upstream, sizeof upstream) == 0) {
		answer = '1';
	} else if (errno == EINPROGRESS) {
		struct pollfd p = { .fd = up, .events = POLLOUT };
		int soerr = 1;
		socklen_t len = sizeof soerr;

		if (poll(&p, 1, PROBE_TIMEOUT_MS) == 1 &&
		    getsockopt(up, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
			answer = '1';
	}
	if (up >= 0)
		close(up);
	/* A fresh socket's buffer is empty: one byte never blocks. A client
	 * that has gone already makes this fail, which changes nothing. */
	(void)!send(client, &answer, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(client);
}

/* Accepts every pending connection on a listening socket. */
static void accept_all(int lfd, int is_probe, int max_conn)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EMFILE, ENFILE, ENOBUFS, ENOMEM: back off briefly rather
			 * than spin on a listening socket that stays readable. */
			pwarn(errno, "accept");
			{
				struct timespec ts = { 0, 10 * 1000 * 1000 };
				nanosleep(&ts, NULL);
			}
			return;
		}
		if (is_probe)
			probe(fd);
		else
			conn_open(fd, max_conn);
	}
}

__attribute__((noreturn))
static void serve(int lfd, int pfd, pid_t parent)
{
	struct epoll_event events[64], ev;
	struct sigaction sa;
	struct rlimit rl;
	int max_conn = MAX_CONN, i, n;

	/* Dies with the enforcer; the container's end takes it down anyway. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		_exit(1);
	(void)prctl(PR_SET_NAME, "slipway-proxy", 0, 0, 0);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) < 0) {
		pwarn(errno, "sigaction");
		_exit(1);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)MAX_CONN * FDS_PER_CONN + 16)
		max_conn = rl.rlim_cur > 16 + FDS_PER_CONN ? (int)((rl.rlim_cur - 16) / FDS_PER_CONN) : 1;
	for (i = 0; i < MAX_CONN; i++)
		free_slots[nfree++] = MAX_CONN - 1 - i;

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		pwarn(errno, "epoll_create1");
		_exit(1);
	}
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.u64 = TAG_LISTEN;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		pwarn(errno, "epoll_ctl");
		_exit(1);
	}
	ev.data.u64 = TAG_PROBE;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, pfd, &ev) < 0) {
		pwarn(errno, "epoll_ctl");
		_exit(1);
	}
	for (;;) {
		n = epoll_wait(epfd, events, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pwarn(errno, "epoll_wait");
			_exit(1);
		}
		for (i = 0; i < n; i++) {
			uint64_t tag = events[i].data.u64;

			if (tag == TAG_LISTEN)
				accept_all(lfd, 0, max_conn);
			else if (tag == TAG_PROBE)
				accept_all(pfd, 1, max_conn);
			else
				conn_event((int)(tag >> 1), (int)(tag & 1));
		}
		/* Slots closed in this batch may still have events queued in it;
		 * they become reusable only now. */
		while (npending > 0)
			free_slots[nfree++] = pending[--npending];
	}
}

static int fail(char *err, size_t cap, int e, const char *fmt, const char *arg)
{
	snprintf(err, cap, fmt, arg);
	errno = e;
	return -1;
}

static int listen_unix(const char *path, char *err, size_t cap)
{
	struct sockaddr_un a;
	int fd, e;

	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof a.sun_path)
		return fail(err, cap, ENAMETOOLONG, "proxy socket path %s is too long for a Unix socket", path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, cap, errno, "cannot create the proxy socket %s", path);
	/* A socket left by an earlier run of this container. */
	if (unlink(path) < 0 && errno != ENOENT)
		goto bad;
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0)
		goto bad;
	/* The directory (bind-mounted by the local target, private on the
	 * host) is what guards access; the router may run as another uid. */
	if (chmod(path, 0666) < 0 || listen(fd, SOMAXCONN) < 0)
		goto bad;
	return fd;
bad:
	e = errno;
	close(fd);
	return fail(err, cap, e, "cannot listen on the proxy socket %s (the local target mounts a writable directory at /.slipway/run)", path);
}

int proxy_start(char *err, size_t cap)
{
	const char *path = getenv("SLIPWAY_PROXY_SOCKET");
	const char *port_s = getenv("PORT");
	char probe_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	char *end;
	unsigned long port;
	int lfd, pfd;
	pid_t parent, pid;

	if (!path || !*path)
		return 0;
	errno = 0;
	port = port_s ? strtoul(port_s, &end, 10) : 0;
	if (!port_s || !*port_s || *end || errno || port == 0 || port > 65535)
		return fail(err, cap, EINVAL, "SLIPWAY_PROXY_SOCKET is set but PORT (%s) is not a port number", port_s ? port_s : "unset");
	memset(&upstream, 0, sizeof upstream);
	upstream.sin_family = AF_INET;
	upstream.sin_port = htons((uint16_t)port);
	upstream.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((size_t)snprintf(probe_path, sizeof probe_path, "%s.probe", path) >= sizeof probe_path)
		return fail(err, cap, ENAMETOOLONG, "proxy socket path %s is too long for a Unix socket", path);

	lfd = listen_unix(path, err, cap);
	if (lfd < 0)
		return -1;
	pfd = listen_unix(probe_path, err, cap);
	if (pfd < 0) {
		int e = errno;
		close(lfd);
		errno = e;
		return -1;
	}
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		int e = errno;
		close(lfd);
		close(pfd);
		return fail(err, cap, e, "cannot fork the proxy%s", "");
	}
	if (pid == 0)
		serve(lfd, pfd, parent);
	close(lfd);
	close(pfd);
	/* The workload has no use for it. */
	if (unsetenv("SLIPWAY_PROXY_SOCKET") < 0)
		return fail(err, cap, errno, "unsetenv%s", "");
	return 0;
}
