/*
 * ws_port_esp.c - ws_port.h for ESP-IDF v5: lwIP BSD sockets, poll() from the IDF VFS, an eventfd waker
 * (esp_vfs_eventfd, select()-able next to lwIP sockets), FreeRTOS queues, mutexes and tasks.
 *
 * Compiled only by ESP-IDF (components/ws_server/CMakeLists.txt under if(ESP_PLATFORM)); no ESP32 compiler exists
 * on the development machine, so this file is checked by review, and everything it sits under by the host build.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esp_err.h"
#include "esp_timer.h"
#include "esp_vfs_eventfd.h"
#include "freertos/FreeRTOS.h"
#include "freertos/queue.h"
#include "freertos/semphr.h"
#include "freertos/task.h"
#include "sdkconfig.h"

#include "ws_port.h"

static TickType_t to_ticks(uint32_t ms) { return ms == WS_PORT_WAIT_FOREVER ? portMAX_DELAY : pdMS_TO_TICKS(ms); }

static int set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int ws_port_listen(uint16_t port, int backlog, uint16_t *bound_port)
{
    int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0) {
        return WS_PORT_ERROR;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in addr = {0};
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
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? WS_PORT_AGAIN : WS_PORT_ERROR;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (set_nonblocking(fd) != 0) {
        close(fd);
        return WS_PORT_AGAIN;
    }
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
    ssize_t n = send(sock, buf, len, 0); /* no signals on FreeRTOS */
    if (n < 0) {
        return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? WS_PORT_AGAIN : WS_PORT_ERROR;
    }
    return (int32_t)n;
}

void ws_port_shutdown_write(int sock) { shutdown(sock, SHUT_WR); }

void ws_port_close(int sock) { close(sock); }

int ws_port_poll(ws_port_pollfd_t *fds, size_t n, uint32_t timeout_ms)
{
    struct pollfd p[CONFIG_LWIP_MAX_SOCKETS + 2];
    if (n > sizeof(p) / sizeof(p[0])) {
        return WS_PORT_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
        p[i].fd = fds[i].sock;
        p[i].events = (short)(((fds[i].events & WS_PORT_POLL_IN) ? POLLIN : 0) |
                              ((fds[i].events & WS_PORT_POLL_OUT) ? POLLOUT : 0));
        p[i].revents = 0;
    }
    int r = poll(p, (nfds_t)n, timeout_ms == WS_PORT_WAIT_FOREVER ? -1 : (int)timeout_ms);
    for (size_t i = 0; i < n; i++) {
        short re = r > 0 ? p[i].revents : 0;
        fds[i].revents = (uint8_t)(((re & POLLIN) ? WS_PORT_POLL_IN : 0) | ((re & POLLOUT) ? WS_PORT_POLL_OUT : 0) |
                                   ((re & (POLLERR | POLLHUP | POLLNVAL)) ? WS_PORT_POLL_ERR : 0));
    }
    return r < 0 ? WS_PORT_ERROR : r;
}

struct ws_port_waker {
    int fd;
};

ws_port_waker_t *ws_port_waker_create(void)
{
    /* Registering twice answers ESP_ERR_INVALID_STATE, which is fine: the eventfd VFS is already there. */
    esp_vfs_eventfd_config_t config = ESP_VFS_EVENTD_CONFIG_DEFAULT();
    esp_err_t err = esp_vfs_eventfd_register(&config);
    if (err != ESP_OK && err != ESP_ERR_INVALID_STATE) {
        return NULL;
    }
    ws_port_waker_t *w = (ws_port_waker_t *)malloc(sizeof(*w));
    if (w == NULL) {
        return NULL;
    }
    w->fd = eventfd(0, 0);
    if (w->fd < 0) {
        free(w);
        return NULL;
    }
    return w;
}

int ws_port_waker_fd(const ws_port_waker_t *w) { return w->fd; }

void ws_port_waker_signal(ws_port_waker_t *w)
{
    uint64_t one = 1;
    (void)write(w->fd, &one, sizeof(one));
}

void ws_port_waker_drain(ws_port_waker_t *w)
{
    uint64_t value;
    (void)read(w->fd, &value, sizeof(value)); /* readable means the counter is > 0; one read resets it */
}

void ws_port_waker_destroy(ws_port_waker_t *w)
{
    if (w != NULL) {
        close(w->fd);
        free(w);
    }
}

uint32_t ws_port_now_ms(void) { return (uint32_t)(esp_timer_get_time() / 1000); }

void ws_port_sleep_ms(uint32_t ms) { vTaskDelay(pdMS_TO_TICKS(ms) > 0 ? pdMS_TO_TICKS(ms) : 1); }

/* The opaque port types are the FreeRTOS handles themselves, so ws_get_recv_queue() is a QueueHandle_t. */
ws_port_mutex_t *ws_port_mutex_create(void) { return (ws_port_mutex_t *)xSemaphoreCreateMutex(); }
void ws_port_mutex_lock(ws_port_mutex_t *m) { xSemaphoreTake((SemaphoreHandle_t)m, portMAX_DELAY); }
void ws_port_mutex_unlock(ws_port_mutex_t *m) { xSemaphoreGive((SemaphoreHandle_t)m); }
void ws_port_mutex_destroy(ws_port_mutex_t *m)
{
    if (m != NULL) {
        vSemaphoreDelete((SemaphoreHandle_t)m);
    }
}

ws_port_queue_t *ws_port_queue_create(size_t item_size, uint32_t length)
{
    return (ws_port_queue_t *)xQueueCreate(length, item_size);
}

int ws_port_queue_send(ws_port_queue_t *q, const void *item, uint32_t wait_ms)
{
    return xQueueSend((QueueHandle_t)q, item, to_ticks(wait_ms)) == pdTRUE ? 0 : WS_PORT_AGAIN;
}

int ws_port_queue_recv(ws_port_queue_t *q, void *item, uint32_t wait_ms)
{
    return xQueueReceive((QueueHandle_t)q, item, to_ticks(wait_ms)) == pdTRUE ? 0 : WS_PORT_AGAIN;
}

uint32_t ws_port_queue_count(ws_port_queue_t *q)
{
    return q != NULL ? (uint32_t)uxQueueMessagesWaiting((QueueHandle_t)q) : 0u;
}

void ws_port_queue_destroy(ws_port_queue_t *q)
{
    if (q != NULL) {
        vQueueDelete((QueueHandle_t)q);
    }
}

struct ws_port_task {
    void (*fn)(void *);
    void *arg;
    SemaphoreHandle_t done; /* given when fn returns: FreeRTOS has no join */
};

static void task_main(void *p)
{
    ws_port_task_t *t = (ws_port_task_t *)p;
    t->fn(t->arg);
    xSemaphoreGive(t->done);
    vTaskDelete(NULL);
}

ws_port_task_t *ws_port_task_start(void (*fn)(void *), void *arg, const char *name, uint32_t stack_size,
                                   uint32_t priority)
{
    ws_port_task_t *t = (ws_port_task_t *)malloc(sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    t->fn = fn;
    t->arg = arg;
    t->done = xSemaphoreCreateBinary();
    if (t->done == NULL) {
        free(t);
        return NULL;
    }
    if (xTaskCreate(task_main, name, stack_size, t, (UBaseType_t)priority, NULL) != pdPASS) {
        vSemaphoreDelete(t->done);
        free(t);
        return NULL;
    }
    return t;
}

void ws_port_task_join(ws_port_task_t *t)
{
    if (t != NULL) {
        xSemaphoreTake(t->done, portMAX_DELAY);
        vSemaphoreDelete(t->done);
        free(t);
    }
}
