/* ws_port_posix.c - ws_port.h for Linux/POSIX: BSD sockets, poll(), a self-pipe waker, pthreads. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ws_port.h"

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int ws_port_listen(uint16_t port, int backlog, uint16_t *bound_port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return WS_PORT_ERROR;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
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
    int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? WS_PORT_AGAIN : WS_PORT_ERROR;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int32_t ws_port_recv(int sock, void *buf, size_t len)
{
    ssize_t n = recv(sock, buf, len, 0);
    if (n < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? WS_PORT_AGAIN : WS_PORT_ERROR;
    }
    return (int32_t)n;
}

int32_t ws_port_send(int sock, const void *buf, size_t len)
{
    if (len > INT32_MAX) {
        len = INT32_MAX;
    }
    ssize_t n = send(sock, buf, len, MSG_NOSIGNAL);
    if (n < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? WS_PORT_AGAIN : WS_PORT_ERROR;
    }
    return (int32_t)n;
}

void ws_port_shutdown_write(int sock) { shutdown(sock, SHUT_WR); }

void ws_port_close(int sock) { close(sock); }

int ws_port_poll(ws_port_pollfd_t *fds, size_t n, uint32_t timeout_ms)
{
    struct pollfd stack_fds[64];
    struct pollfd *p = n <= 64 ? stack_fds : (struct pollfd *)calloc(n, sizeof(*p));
    if (p == NULL) {
        return WS_PORT_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        p[i].fd = fds[i].sock;
        p[i].events = (short)(((fds[i].events & WS_PORT_POLL_IN) ? POLLIN : 0) |
                              ((fds[i].events & WS_PORT_POLL_OUT) ? POLLOUT : 0));
        p[i].revents = 0;
    }
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

struct ws_port_waker {
    int fds[2];
};

ws_port_waker_t *ws_port_waker_create(void)
{
    ws_port_waker_t *w = (ws_port_waker_t *)malloc(sizeof(*w));
    if (w == NULL) {
        return NULL;
    }
    if (pipe2(w->fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        free(w);
        return NULL;
    }
    return w;
}

int ws_port_waker_fd(const ws_port_waker_t *w) { return w->fds[0]; }

void ws_port_waker_signal(ws_port_waker_t *w)
{
    char c = 1;
    ssize_t r = write(w->fds[1], &c, 1); /* a full pipe already means "wake up" */
    (void)r;
}

void ws_port_waker_drain(ws_port_waker_t *w)
{
    char buf[64];
    while (read(w->fds[0], buf, sizeof(buf)) > 0) {
    }
}

void ws_port_waker_destroy(ws_port_waker_t *w)
{
    if (w != NULL) {
        close(w->fds[0]);
        close(w->fds[1]);
        free(w);
    }
}

uint32_t ws_port_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

void ws_port_sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000u), .tv_nsec = (long)(ms % 1000u) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

struct ws_port_mutex {
    pthread_mutex_t m;
};

ws_port_mutex_t *ws_port_mutex_create(void)
{
    ws_port_mutex_t *m = (ws_port_mutex_t *)malloc(sizeof(*m));
    if (m != NULL) {
        pthread_mutex_init(&m->m, NULL);
    }
    return m;
}

void ws_port_mutex_lock(ws_port_mutex_t *m) { pthread_mutex_lock(&m->m); }
void ws_port_mutex_unlock(ws_port_mutex_t *m) { pthread_mutex_unlock(&m->m); }

void ws_port_mutex_destroy(ws_port_mutex_t *m)
{
    if (m != NULL) {
        pthread_mutex_destroy(&m->m);
        free(m);
    }
}

/* A ring buffer with a mutex and two condition variables, copying items like xQueueSend/xQueueReceive. */
struct ws_port_queue {
    pthread_mutex_t m;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    size_t item_size;
    uint32_t length, head, count;
    unsigned char *data;
};

ws_port_queue_t *ws_port_queue_create(size_t item_size, uint32_t length)
{
    ws_port_queue_t *q = (ws_port_queue_t *)calloc(1, sizeof(*q));
    if (q == NULL || length == 0) {
        free(q);
        return NULL;
    }
    q->data = (unsigned char *)malloc(item_size * length);
    if (q->data == NULL) {
        free(q);
        return NULL;
    }
    pthread_mutex_init(&q->m, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->not_empty, &attr);
    pthread_cond_init(&q->not_full, &attr);
    pthread_condattr_destroy(&attr);
    q->item_size = item_size;
    q->length = length;
    return q;
}

/* Waits on cv until pred() or the deadline; returns 0 if the predicate holds. */
static int wait_until(ws_port_queue_t *q, pthread_cond_t *cv, int want_room, uint32_t wait_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    uint64_t ns = (uint64_t)deadline.tv_nsec + (uint64_t)(wait_ms % 1000u) * 1000000u;
    deadline.tv_sec += (time_t)(wait_ms / 1000u) + (time_t)(ns / 1000000000u);
    deadline.tv_nsec = (long)(ns % 1000000000u);
    for (;;) {
        int ok = want_room ? q->count < q->length : q->count > 0;
        if (ok) {
            return 0;
        }
        if (wait_ms == 0) {
            return -1;
        }
        if (wait_ms == WS_PORT_WAIT_FOREVER) {
            pthread_cond_wait(cv, &q->m);
        } else if (pthread_cond_timedwait(cv, &q->m, &deadline) == ETIMEDOUT) {
            return (want_room ? q->count < q->length : q->count > 0) ? 0 : -1;
        }
    }
}

int ws_port_queue_send(ws_port_queue_t *q, const void *item, uint32_t wait_ms)
{
    pthread_mutex_lock(&q->m);
    if (wait_until(q, &q->not_full, 1, wait_ms) != 0) {
        pthread_mutex_unlock(&q->m);
        return WS_PORT_AGAIN;
    }
    memcpy(q->data + ((q->head + q->count) % q->length) * q->item_size, item, q->item_size);
    q->count++;
    pthread_cond_signal(&q->not_empty);
    pthread_mutex_unlock(&q->m);
    return 0;
}

int ws_port_queue_recv(ws_port_queue_t *q, void *item, uint32_t wait_ms)
{
    pthread_mutex_lock(&q->m);
    if (wait_until(q, &q->not_empty, 0, wait_ms) != 0) {
        pthread_mutex_unlock(&q->m);
        return WS_PORT_AGAIN;
    }
    memcpy(item, q->data + q->head * q->item_size, q->item_size);
    q->head = (q->head + 1u) % q->length;
    q->count--;
    pthread_cond_signal(&q->not_full);
    pthread_mutex_unlock(&q->m);
    return 0;
}

uint32_t ws_port_queue_count(ws_port_queue_t *q)
{
    if (q == NULL) {
        return 0;
    }
    pthread_mutex_lock(&q->m);
    uint32_t n = q->count;
    pthread_mutex_unlock(&q->m);
    return n;
}

void ws_port_queue_destroy(ws_port_queue_t *q)
{
    if (q != NULL) {
        pthread_mutex_destroy(&q->m);
        pthread_cond_destroy(&q->not_empty);
        pthread_cond_destroy(&q->not_full);
        free(q->data);
        free(q);
    }
}

struct ws_port_task {
    pthread_t thread;
    void (*fn)(void *);
    void *arg;
};

static void *task_main(void *p)
{
    ws_port_task_t *t = (ws_port_task_t *)p;
    t->fn(t->arg);
    return NULL;
}

ws_port_task_t *ws_port_task_start(void (*fn)(void *), void *arg, const char *name, uint32_t stack_size,
                                   uint32_t priority)
{
    (void)stack_size;
    (void)priority;
    ws_port_task_t *t = (ws_port_task_t *)malloc(sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    t->fn = fn;
    t->arg = arg;
    if (pthread_create(&t->thread, NULL, task_main, t) != 0) {
        free(t);
        return NULL;
    }
    pthread_setname_np(t->thread, name);
    return t;
}

void ws_port_task_join(ws_port_task_t *t)
{
    if (t != NULL) {
        pthread_join(t->thread, NULL);
        free(t);
    }
}
