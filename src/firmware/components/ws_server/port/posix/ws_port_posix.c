/*
 * ws_port_posix.c - the platform half of ws_port.h for Linux/POSIX: a self-pipe waker, CLOCK_MONOTONIC time,
 * pthread mutexes, a condition-variable queue and threads. The sockets are port/bsd/ws_port_bsd.c, shared with the
 * ESP-IDF port.
 */
#define _GNU_SOURCE /* pipe2(), pthread_setname_np() */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ws_port.h"

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
