/* ws_ota.c - the /ota endpoint: ws_ota_engine over the WebSocket server's endpoint interface (ws_endpoint.h). */
#include "ws_ota.h"

#include <stdlib.h>
#include <string.h>

#include "ws_hmac.h"
#include "ws_json.h"
#include "ws_port.h"
#include "ws_server.h"

struct ws_ota {
    const ws_ota_port_t *port;
    ws_port_mutex_t *lock; /* the server task's callbacks against ws_ota_poll and ws_ota_status */
    ws_endpoint_t endpoint;
    ws_ota_engine_t engine;
    ws_ota_out_t out; /* the server task's only: the answers of one call */
};

static uint32_t now_ms(const ws_ota_t *ota) { return ota->port->now_ms(ota->port->ctx); }

/* Sends what the engine answered, then closes if it asked to. */
static void answer(ws_endpoint_conn_t *conn, const ws_ota_out_t *out)
{
    for (size_t i = 0; i < out->count; i++) {
        (void)ws_server_endpoint_send(conn, WS_OP_TXT, out->buf + out->offset[i], out->length[i]);
    }
    if (out->close_code != 0) {
        ws_server_endpoint_close(conn, out->close_code);
    }
}

static void on_handshake(void *ctx, const ws_http_request_t *req, uint32_t now, ws_endpoint_answer_t *ans)
{
    (void)now;
    ws_ota_t *ota = (ws_ota_t *)ctx;
    ws_ota_answer_t a;
    ws_port_mutex_lock(ota->lock);
    ws_ota_engine_handshake(&ota->engine, ws_http_offers_protocol(req, WS_OTA_PROTOCOL), now_ms(ota), &a);
    ws_port_mutex_unlock(ota->lock);
    ans->status = a.status;
    ans->subprotocol = WS_OTA_PROTOCOL;
    ans->body = a.body; /* string literals */
    ans->retry_after_s = a.retry_after_s;
}

static void on_opened(void *ctx, ws_endpoint_conn_t *conn, uint32_t now)
{
    (void)now;
    ws_ota_t *ota = (ws_ota_t *)ctx;
    ws_port_mutex_lock(ota->lock);
    ws_ota_engine_open(&ota->engine, now_ms(ota), &ota->out);
    answer(conn, &ota->out);
    ws_port_mutex_unlock(ota->lock);
}

static void on_message(void *ctx, ws_endpoint_conn_t *conn, int opcode, const uint8_t *data, size_t len, uint32_t now)
{
    (void)now;
    ws_ota_t *ota = (ws_ota_t *)ctx;
    ws_port_mutex_lock(ota->lock);
    if (opcode == WS_OP_TXT) {
        ws_ota_engine_text(&ota->engine, (const char *)data, len, now_ms(ota), &ota->out);
    } else {
        ws_ota_engine_binary(&ota->engine, data, len, now_ms(ota), &ota->out);
    }
    answer(conn, &ota->out);
    ws_port_mutex_unlock(ota->lock);
}

static void on_closed(void *ctx, uint32_t now)
{
    (void)now;
    ws_ota_t *ota = (ws_ota_t *)ctx;
    ws_port_mutex_lock(ota->lock);
    ws_ota_engine_closed(&ota->engine, now_ms(ota));
    ws_port_mutex_unlock(ota->lock);
}

int ws_ota_start(ws_ota_t **out, const ws_ota_port_t *port)
{
    *out = NULL;
    ws_ota_t *ota = (ws_ota_t *)calloc(1, sizeof(*ota));
    if (ota == NULL) {
        return WS_OTA_PORT_ERR_STATE;
    }
    ota->port = port;
    ota->lock = ws_port_mutex_create();
    if (ota->lock == NULL) {
        free(ota);
        return WS_OTA_PORT_ERR_STATE;
    }
    int err = ws_ota_engine_init(&ota->engine, port, 0, now_ms(ota));
    if (err != WS_OTA_PORT_OK) {
        ws_port_mutex_destroy(ota->lock);
        free(ota);
        return err;
    }
    ota->endpoint = (ws_endpoint_t){.path = WS_OTA_PATH,
                                    .ctx = ota,
                                    .handshake = on_handshake,
                                    .opened = on_opened,
                                    .message = on_message,
                                    .closed = on_closed};
    *out = ota;
    return WS_OTA_PORT_OK;
}

const ws_endpoint_t *ws_ota_endpoint(ws_ota_t *ota) { return ota != NULL ? &ota->endpoint : NULL; }

bool ws_ota_poll(ws_ota_t *ota)
{
    ws_port_mutex_lock(ota->lock);
    bool restart = ws_ota_engine_poll(&ota->engine, now_ms(ota));
    ws_port_mutex_unlock(ota->lock);
    return restart;
}

void ws_ota_status(ws_ota_t *ota, ws_ota_status_t *out)
{
    memset(out, 0, sizeof(*out));
    uint8_t key[WS_OTA_KEY_LEN];
    ws_port_mutex_lock(ota->lock);
    const ws_ota_engine_t *e = &ota->engine;
    memcpy(out->version, e->app.version, sizeof(out->version));
    memcpy(out->project, e->app.project, sizeof(out->project));
    ws_json_hex(e->app.elf_sha256, 4, out->elf_prefix);
    memcpy(out->slot, e->run.running_slot, sizeof(out->slot));
    out->state = ws_ota_state_name(e->run.state);
    (void)ws_ota_last_format(&e->last, false, out->last_update, sizeof(out->last_update));
    out->key_provisioned = ota->port->key(ota->port->ctx, key) == WS_OTA_PORT_OK;
    ws_port_mutex_unlock(ota->lock);
    ws_hmac_wipe(key, sizeof(key));
}

ws_ota_state_t ws_ota_state(ws_ota_t *ota)
{
    ws_port_mutex_lock(ota->lock);
    ws_ota_state_t state = ota->engine.run.state;
    ws_port_mutex_unlock(ota->lock);
    return state;
}

void ws_ota_free(ws_ota_t *ota)
{
    if (ota == NULL) {
        return;
    }
    ws_port_mutex_lock(ota->lock);
    ws_ota_engine_closed(&ota->engine, now_ms(ota)); /* an open slot is aborted */
    ws_port_mutex_unlock(ota->lock);
    ws_port_mutex_destroy(ota->lock);
    free(ota);
}
