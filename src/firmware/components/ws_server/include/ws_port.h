/*
 * ws_port.h - everything the portable core needs from the platform, and nothing more.
 *
 * The sockets are implemented once, by port/bsd/ws_port_bsd.c (BSD sockets: lwIP's on ESP-IDF, the kernel's on
 * Linux); the rest by port/esp/ws_port_esp.c (FreeRTOS, esp_timer, an eventfd from the IDF VFS) or by
 * port/posix/ws_port_posix.c (pthreads, CLOCK_MONOTONIC, a self-pipe). Sockets are plain int handles so this header
 * needs no <sys/socket.h>; the core compiles freestanding.
 *
 * Return conventions: functions returning int/int32_t give >= 0 on success, WS_PORT_AGAIN when a non-blocking
 * call would block or a wait timed out, WS_PORT_ERROR otherwise.
 */
#ifndef WS_PORT_H
#define WS_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WS_PORT_ERROR (-1)
#define WS_PORT_AGAIN (-2)

#define WS_PORT_WAIT_FOREVER UINT32_MAX

/* ---- sockets (all non-blocking) ---- */

/* Opens a TCP listener on all IPv4 addresses; port 0 picks a free one, reported in *bound_port. */
int ws_port_listen(uint16_t port, int backlog, uint16_t *bound_port);
/* Accepts one pending connection (non-blocking, TCP_NODELAY), or WS_PORT_AGAIN. */
int ws_port_accept(int listener);
/* Reads up to len bytes: > 0 bytes read, 0 the peer closed, WS_PORT_AGAIN, WS_PORT_ERROR. */
int32_t ws_port_recv(int sock, void *buf, size_t len);
/* Writes up to len bytes: >= 0 bytes written, WS_PORT_AGAIN, WS_PORT_ERROR. Never raises SIGPIPE. */
int32_t ws_port_send(int sock, const void *buf, size_t len);
/* Half-closes the write side (sends FIN). */
void ws_port_shutdown_write(int sock);
void ws_port_close(int sock);

#define WS_PORT_POLL_IN 1u
#define WS_PORT_POLL_OUT 2u
#define WS_PORT_POLL_ERR 4u

typedef struct {
    int sock;
    uint8_t events;  /* WS_PORT_POLL_IN / OUT wanted */
    uint8_t revents; /* set by ws_port_poll; ERR covers hang-up and errors */
} ws_port_pollfd_t;

/* Waits until a socket is ready or timeout_ms passes. Returns the number ready, 0 on timeout, WS_PORT_ERROR. */
int ws_port_poll(ws_port_pollfd_t *fds, size_t n, uint32_t timeout_ms);

/* ---- waking the server loop from other tasks ---- */

typedef struct ws_port_waker ws_port_waker_t;
ws_port_waker_t *ws_port_waker_create(void);
/* A handle to put in the poll set; readable after ws_port_waker_signal. */
int ws_port_waker_fd(const ws_port_waker_t *w);
void ws_port_waker_signal(ws_port_waker_t *w);
void ws_port_waker_drain(ws_port_waker_t *w);
void ws_port_waker_destroy(ws_port_waker_t *w);

/* ---- time ---- */

/* Monotonic milliseconds (wraps after 49 days; compare with ws_time_reached). */
uint32_t ws_port_now_ms(void);
/* Blocks the calling task for ms milliseconds. */
void ws_port_sleep_ms(uint32_t ms);

/* ---- mutex ---- */

typedef struct ws_port_mutex ws_port_mutex_t;
ws_port_mutex_t *ws_port_mutex_create(void);
void ws_port_mutex_lock(ws_port_mutex_t *m);
void ws_port_mutex_unlock(ws_port_mutex_t *m);
void ws_port_mutex_destroy(ws_port_mutex_t *m);

/* ---- bounded queue of fixed-size items (copied in and out, like a FreeRTOS queue) ---- */

typedef struct ws_port_queue ws_port_queue_t;
ws_port_queue_t *ws_port_queue_create(size_t item_size, uint32_t length);
/* Copies item in; waits up to wait_ms for room. Returns 0 or WS_PORT_AGAIN. */
int ws_port_queue_send(ws_port_queue_t *q, const void *item, uint32_t wait_ms);
/* Copies the oldest item out; waits up to wait_ms. Returns 0 or WS_PORT_AGAIN. */
int ws_port_queue_recv(ws_port_queue_t *q, void *item, uint32_t wait_ms);
/* Items waiting in the queue right now (FreeRTOS uxQueueMessagesWaiting); 0 for NULL. */
uint32_t ws_port_queue_count(ws_port_queue_t *q);
void ws_port_queue_destroy(ws_port_queue_t *q);

/* ---- task ---- */

typedef struct ws_port_task ws_port_task_t;
/* Starts fn(arg) in its own task/thread. stack_size and priority matter on FreeRTOS only. */
ws_port_task_t *ws_port_task_start(void (*fn)(void *), void *arg, const char *name, uint32_t stack_size,
                                   uint32_t priority);
/* Waits for the task's function to return, then frees the handle. */
void ws_port_task_join(ws_port_task_t *t);

#ifdef __cplusplus
}
#endif

#endif /* WS_PORT_H */
