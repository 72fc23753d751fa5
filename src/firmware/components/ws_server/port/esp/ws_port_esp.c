/*
 * ws_port_esp.c - the platform half of ws_port.h for ESP-IDF v5: an eventfd waker (esp_vfs_eventfd, pollable next
 * to lwIP sockets), esp_timer time, FreeRTOS queues, mutexes and tasks. The sockets (lwIP's BSD API) are
 * port/bsd/ws_port_bsd.c, shared with the POSIX port.
 *
 * Compiled only by ESP-IDF (components/ws_server/CMakeLists.txt under if(ESP_PLATFORM)).
 */
#include <stdlib.h>
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

/*
 * The core a task started here runs on. On a dual-core chip (the classic ESP32) the server task is pinned to
 * CONFIG_WS_SERVER_TASK_CORE (PRO_CPU, 0, by default: where ESP-IDF keeps its network stack's tasks), and
 * main.c pins the application's tasks (receive loop, counter: the ws_send callers) to the other core, so the server
 * and the application run in parallel and the send queue's locking is exercised across cores. A single-core chip
 * has no choice to make.
 */
#ifdef CONFIG_WS_SERVER_TASK_CORE /* only where FreeRTOS runs on two cores (Kconfig: !FREERTOS_UNICORE) */
#define WS_PORT_TASK_CORE ((BaseType_t)CONFIG_WS_SERVER_TASK_CORE)
#else
#define WS_PORT_TASK_CORE tskNO_AFFINITY
#endif

static TickType_t to_ticks(uint32_t ms) { return ms == WS_PORT_WAIT_FOREVER ? portMAX_DELAY : pdMS_TO_TICKS(ms); }

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
    if (xTaskCreatePinnedToCore(task_main, name, stack_size, t, (UBaseType_t)priority, NULL, WS_PORT_TASK_CORE) !=
        pdPASS) {
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
