/*
 * ws_port_bsd.c - the socket half of ws_port.h (listen, accept, recv, send, shutdown, close, poll) over BSD sockets,
 * shared by both ports: lwIP's socket API on ESP-IDF and the kernel's on Linux. The other half (waker, time,
 * mutex, queue, task) differs per platform and stays in port/esp/ws_port_esp.c and port/posix/ws_port_posix.c.
 *
 * Where the two stacks differ, the code asks the headers rather than the platform (as mongoose does):
 * - SOCK_CLOEXEC / SOCK_NONBLOCK with accept4(): Linux creates and accepts sockets close-on-exec and non-blocking in
 *   one call; lwIP has neither flag, so the accepted socket is made non-blocking with fcntl() (nothing execs there).
 * - MSG_NOSIGNAL: Linux would raise SIGPIPE on a send to a reset peer; lwIP defines the flag and ignores it (FreeRTOS
 *   has no signals), so passing it everywhere is right for both.
 * - WS_PORT_BSD_POLL_STACK: poll sets up to this many sockets are converted on the caller's stack, larger ones on the
 *   heap. The ESP-IDF build sets it from CONFIG_LWIP_MAX_SOCKETS (components/ws_server/CMakeLists.txt), so the
 *   device never allocates here and keeps the server task's stack small; the host default of 64 suits the benchmarks.
 */
#ifndef _GNU_SOURCE /* ESP-IDF defines it for every file already */
#define _GNU_SOURCE     /* accept4() in glibc */
#endif
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/poll.h> /* glibc's, or ESP-IDF's VFS poll() over lwIP sockets and VFS descriptors (the eventfd) */
#include <sys/socket.h>
#include <unistd.h>

#include "ws_port.h"

#ifndef WS_PORT_BSD_POLL_STACK
#define WS_PORT_BSD_POLL_STACK 64
#endif

#if defined(SOCK_CLOEXEC)
#define STREAM_TYPE (SOCK_STREAM | SOCK_CLOEXEC)
#else
#define STREAM_TYPE SOCK_STREAM
#endif

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* A failed call that only means "not now": nothing pending, a full send buffer, or a signal in between. */
static bool is_again(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

int ws_port_listen(uint16_t port, int backlog, uint16_t *bound_port)
{
    int fd = socket(AF_INET, STREAM_TYPE, IPPROTO_TCP);
    if (fd < 0) {
        return WS_PORT_ERROR;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* a restart reuses the port at once */
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = htons(port);
    socklen_t alen = sizeof(addr);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, backlog) != 0 || set_nonblocking(fd) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &alen) != 0) {
        close(fd);
        return WS_PORT_ERROR;
    }
    if (bound_port != NULL) {
        *bound_port = ntohs(addr.sin_port);
    }
    return fd;
}

int ws_port_accept(int listener)
{
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
    int fd = accept(listener, NULL, NULL);
#endif
    if (fd < 0) {
        return is_again(errno) ? WS_PORT_AGAIN : WS_PORT_ERROR;
    }
#if !(defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC))
    if (set_nonblocking(fd) != 0) {
        close(fd); /* a blocking client socket would stall every other client: drop this one, keep accepting */
        return WS_PORT_AGAIN;
    }
#endif
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* frames are written whole, never dribbled */
    return fd;
}

int32_t ws_port_recv(int sock, void *buf, size_t len)
{
    if (len > (size_t)INT32_MAX) {
        len = (size_t)INT32_MAX;
    }
    ssize_t n = recv(sock, buf, len, 0);
    if (n < 0) {
        return is_again(errno) ? WS_PORT_AGAIN : WS_PORT_ERROR;
    }
    return (int32_t)n;
}

int32_t ws_port_send(int sock, const void *buf, size_t len)
{
    if (len > (size_t)INT32_MAX) {
        len = (size_t)INT32_MAX;
    }
    ssize_t n = send(sock, buf, len, MSG_NOSIGNAL);
    if (n < 0) {
        return is_again(errno) ? WS_PORT_AGAIN : WS_PORT_ERROR;
    }
    return (int32_t)n;
}

void ws_port_shutdown_write(int sock) { (void)shutdown(sock, SHUT_WR); }

void ws_port_close(int sock) { (void)close(sock); }

int ws_port_poll(ws_port_pollfd_t *fds, size_t n, uint32_t timeout_ms)
{
    struct pollfd stack_fds[WS_PORT_BSD_POLL_STACK];
    struct pollfd *p = n <= WS_PORT_BSD_POLL_STACK ? stack_fds : (struct pollfd *)calloc(n, sizeof(*p));
    if (p == NULL) {
        return WS_PORT_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        p[i].fd = fds[i].sock;
        p[i].events = (short)(((fds[i].events & WS_PORT_POLL_IN) ? POLLIN : 0) |
                              ((fds[i].events & WS_PORT_POLL_OUT) ? POLLOUT : 0));
        p[i].revents = 0;
    }
    /* WS_PORT_WAIT_FOREVER, and anything poll()'s int cannot hold, waits without a timeout. */
    int timeout = timeout_ms > (uint32_t)INT32_MAX ? -1 : (int)timeout_ms;
    int r = poll(p, (nfds_t)n, timeout);
    for (size_t i = 0; i < n; i++) {
        short re = r > 0 ? p[i].revents : 0;
        fds[i].revents = (uint8_t)(((re & POLLIN) ? WS_PORT_POLL_IN : 0) | ((re & POLLOUT) ? WS_PORT_POLL_OUT : 0) |
                                   ((re & (POLLERR | POLLHUP | POLLNVAL)) ? WS_PORT_POLL_ERR : 0));
    }
    if (p != stack_fds) {
        free(p);
    }
    return r < 0 ? WS_PORT_ERROR : r;
}
