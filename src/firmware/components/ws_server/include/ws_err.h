/*
 * ws_err.h - error codes shared by every module of the portable WebSocket core.
 *
 * Functions of the core return ws_err_t (0 = success, negative = failure) unless their header says
 * otherwise. The codes are stable so the ESP-IDF glue can map them to esp_err_t if it wants to.
 */
#ifndef WS_ERR_H
#define WS_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    WS_OK = 0,           /* success */
    WS_ERR_ARG = -1,     /* an argument was NULL or out of range */
    WS_ERR_NO_MEM = -2,  /* malloc failed */
    WS_ERR_FULL = -3,    /* a bounded queue or table has no room */
    WS_ERR_TIMEOUT = -4, /* the wait time passed */
    WS_ERR_STATE = -5,   /* the object is not in a state that allows the call (e.g. server not running) */
    WS_ERR_PORT = -6     /* the platform port (socket, task, queue) failed */
} ws_err_t;

#ifdef __cplusplus
}
#endif

#endif /* WS_ERR_H */
