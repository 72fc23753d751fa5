/* ws_server.c - the server task: one poll() loop over the listener, the waker and every client. */
#include "ws_server.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ws_http.h"

/*
 * A received message waiting for room in the receive queue, or (echo mode) for its echo to be written. The item
 * comes first so free(item) frees it.
 */
struct ws_pending {
    ws_queue_item_t item;
    struct ws_pending *next;
    ws_buf_t *echo; /* echo mode: the frame that sends item.payload where it was received; it owns the payload
                       until every write of it is done, then the payload goes to the application with the item */
};

typedef struct {
    ws_buf_t *buf; /* NULL: stop the server */
    int index;
} ws_cmd_t;

typedef struct {
    ws_conn_limits_t lim;
    bool echo;          /* answer each message to its sender from the server task (ws_server_cfg_t.echo) */
    ws_budget_t budget; /* received bytes held for all clients (ws_budget.h); lim.rx_budget points here */
    char *origins;      /* copy of the allow-list; origin_policy.allow_list points here */
    char *local_name;   /* hostname + ".local", or NULL; origin_policy.local_name points here */
    ws_origin_policy_t origin_policy; /* lim.origins points here when the Origin rule is on */
    ws_conn_table_t table;
    ws_stats_t stats;
    ws_stats_t stats_published;  /* copy readable by other tasks under stats_lock */
    ws_port_mutex_t *stats_lock; /* not g_lock: ws_send may hold g_lock while it waits for the loop */
    int listener;
    uint16_t port;
    ws_port_waker_t *waker;
    ws_port_queue_t *cmds;
    ws_port_task_t *task;
    uint8_t *rx; /* receive buffer of the server task; one per server, never shared with other tasks */
    ws_port_pollfd_t *pfds;
    ws_conn_t **pconn; /* pfds[i] belongs to pconn[i] (NULL for listener and waker) */
    bool stopping;
    uint32_t stop_deadline_ms;
    bool accept_paused; /* accept() failed (e.g. no free socket): do not spin on a readable listener */
    uint32_t accept_resume_ms;
    /* Sizes of the messages this server put in the receive queue and the application has not taken yet, oldest
     * first: they count against the budget until taken. A ring of the queue's length + 1. */
    size_t *queued;
    uint32_t queued_cap, queued_head, queued_count;
    uint16_t pending_turn; /* the slot whose waiting messages go first next round (flush_pending_in_turn) */
} ws_server_t;

/* An endpoint's connection during one of its callbacks (ws_endpoint.h). */
struct ws_endpoint_conn {
    ws_server_t *s;
    ws_conn_t *c;
};

static ws_port_mutex_t *g_lock; /* guards g_server against ws_send racing ws_server_stop */
static ws_server_t *g_server;
static ws_port_queue_t *g_recv_queue; /* lives across stop/init */
static uint32_t g_recv_queue_len;

/*
 * The application's progress through the receive queue, so a close can wait for its answers (ws_conn.h,
 * FINISHING). Items are numbered in the order they enter the queue; the queue is FIFO, so the application takes
 * them in that order. "Done" items are those taken before its latest ws_recv call: it came back for more, so it has
 * sent (ws_send) whatever answers it had for them. Guarded by g_recv_lock (never g_lock, see stats_lock).
 */
static ws_port_mutex_t *g_recv_lock;
static uint32_t g_recv_pushed; /* items put in the queue, by every server since the queue exists */
static uint32_t g_recv_taken;  /* items ws_recv returned */
static uint32_t g_recv_done;   /* g_recv_taken when ws_recv was last entered */
static bool g_recv_tracked;    /* ws_recv was called at least once: the application reads through it */

static uint32_t or_default(uint32_t v, uint32_t d) { return v != 0 ? v : d; }

/* A malloc'd copy of text followed by suffix, or NULL if out of memory. */
static char *copy_string(const char *text, const char *suffix)
{
    size_t n = strlen(text), m = strlen(suffix);
    char *copy = (char *)malloc(n + m + 1u);
    if (copy != NULL) {
        memcpy(copy, text, n);
        memcpy(copy + n, suffix, m + 1u);
    }
    return copy;
}

/* ---- delivering received messages ---- */

static void free_pending(ws_server_t *s, ws_conn_t *c)
{
    while (c->pending_head != NULL) {
        struct ws_pending *p = c->pending_head;
        c->pending_head = p->next;
        ws_budget_release(&s->budget, p->item.len + 1u);
        if (p->echo != NULL) {
            ws_buf_unref(p->echo); /* the payload goes with the frame's last reference */
        } else {
            free(p->item.payload);
        }
        free(p);
    }
    c->pending_tail = NULL;
}

/*
 * Releases the budget of messages the application has taken from the receive queue. The queue is FIFO and only
 * this task adds to it, so the ones still in it are the newest this server added (older servers' leftovers, if
 * any, sit in front of them). Works however the application reads the queue (ws_recv or xQueueReceive).
 */
static void reconcile_queued(ws_server_t *s)
{
    uint32_t waiting = ws_port_queue_count(g_recv_queue);
    while (s->queued_count > waiting) {
        ws_budget_release(&s->budget, s->queued[s->queued_head]);
        s->queued_head = (s->queued_head + 1u) % s->queued_cap;
        s->queued_count--;
    }
}

static void flush_pending(ws_server_t *s, ws_conn_t *c);

/*
 * The receive queue's free places go round the clients: each round starts with the next client. In the table's
 * order, the first client with a message waiting took every place the application freed, and a client is not read
 * while a message of its own waits (back-pressure), so with a slow application the others starved: on the emulated
 * ESP32, four echo clients made 2,739, 320, 7 and 7 round trips in 60 s, two waiting more than 5 s for an echo whose
 * message the server had not read yet.
 */
static void flush_pending_in_turn(ws_server_t *s)
{
    uint16_t size = s->table.size, start = s->pending_turn;
    for (uint16_t k = 0; k < size; k++) {
        uint16_t i = (uint16_t)((start + k) % size);
        ws_conn_t *c = &s->table.conns[i];
        if (c->state != WS_CONN_FREE && c->pending_head != NULL) {
            const struct ws_pending *before = c->pending_head;
            flush_pending(s, c);
            if (c->pending_head != before) {
                s->pending_turn = (uint16_t)((i + 1u) % size); /* served: the next round starts after it */
            }
        }
    }
}

/* Moves waiting messages into the receive queue without blocking the loop; keeps order per client. */
static void flush_pending(ws_server_t *s, ws_conn_t *c)
{
    while (c->pending_head != NULL) {
        struct ws_pending *p = c->pending_head;
        struct ws_pending *next = p->next; /* read first: once queued, the receiver may free p at any moment */
        if (p->echo != NULL) {
            /* The payload is the echo frame's until the frame is written (or dropped) wherever it was queued. */
            if (ws_buf_take_payload(p->echo) == NULL) {
                return; /* still being written; output readiness brings the loop back here */
            }
            p->echo = NULL;
        }
        ws_queue_item_t *item = &p->item;
        size_t size = p->item.len + 1u;
        ws_port_mutex_lock(g_recv_lock);
        int sent = ws_port_queue_send(g_recv_queue, &item, 0);
        if (sent == 0) {
            c->answer_seq = ++g_recv_pushed; /* numbered under the lock, before ws_recv can count it taken */
        }
        ws_port_mutex_unlock(g_recv_lock);
        if (sent != 0) {
            return; /* still full: the client is not read until there is room (back-pressure over TCP) */
        }
        /* Still charged until taken. After reconciling, the ring holds at most the queue's length (the items
         * waiting now, this one included), so there is room for this one. */
        reconcile_queued(s);
        s->queued[(s->queued_head + s->queued_count) % s->queued_cap] = size;
        s->queued_count++;
        c->pending_head = next;
        if (c->pending_head == NULL) {
            c->pending_tail = NULL;
        }
    }
}

/* True when c's oldest undelivered message waits for its echo to be written (echo mode, long messages). */
static bool echo_in_flight(const ws_conn_t *c)
{
    return c->pending_head != NULL && c->pending_head->echo != NULL && c->pending_head->echo->refs > 1u;
}

/* True when the application is done with every message of c it was given (see g_recv_done). */
static bool answers_done(const ws_conn_t *c)
{
    if (c->pending_head != NULL) {
        return false;
    }
    ws_port_mutex_lock(g_recv_lock);
    bool done = !g_recv_tracked || (int32_t)(g_recv_done - c->answer_seq) >= 0;
    ws_port_mutex_unlock(g_recv_lock);
    return done;
}

static bool flush_output(ws_conn_t *c);
static void close_conn(ws_server_t *s, ws_conn_t *c);

/*
 * Echo mode: queues the answer to p for its sender, on this task, before the reader parses anything the client
 * sent after the message. So an error in a later frame closes the connection behind the echo in the same send
 * queue, whatever the application does and however long it takes (RFC 6455 section 5.5.1: the close "MAY" wait
 * until the current message is sent; the Autobahn suite expects the echo first, cases 3.2-3.4). A message up to
 * WS_SERVER_ECHO_COPY_MAX bytes is copied into its frame (one write, one TCP segment, and the application gets the
 * item at once); a longer one is sent from the buffer it was received into, with no second copy, and goes to the
 * application once written. Returns false if the socket failed (the caller closes it).
 */
static bool echo_message(ws_server_t *s, ws_conn_t *c, struct ws_pending *p, uint32_t now)
{
    uint8_t opcode = (uint8_t)p->item.opcode;
    bool in_place = p->item.len > WS_SERVER_ECHO_COPY_MAX;
    ws_buf_t *frame = in_place ? ws_buf_new_frame_owned(opcode, p->item.payload, p->item.len)
                               : ws_buf_new_frame(opcode, p->item.payload, p->item.len);
    if (frame == NULL) {
        ws_conn_close(c, &s->lim, WS_CLOSE_INTERNAL_ERROR, now);
        return true;
    }
    ws_conn_send(c, &s->lim, &s->stats, frame, now); /* a full queue closes the client (slow-client policy) */
    if (in_place) {
        p->echo = frame; /* our reference: the payload comes back to the item through it */
    } else {
        ws_buf_unref(frame);
    }
    return flush_output(c); /* written at once, like a pong: a burst of messages must not fill the queue */
}

/* An endpoint's connection has its 101 queued: opened() once, before any of its messages. */
static void endpoint_open(ws_server_t *s, ws_conn_t *c, uint32_t now)
{
    if (c->endpoint == NULL || c->endpoint_open || c->state != WS_CONN_OPEN) {
        return;
    }
    c->endpoint_open = true;
    if (c->endpoint->opened != NULL) {
        ws_endpoint_conn_t conn = {s, c};
        c->endpoint->opened(c->endpoint->ctx, &conn, now);
    }
}

static void deliver(ws_server_t *s, ws_conn_t *c, const ws_read_event_t *ev, uint32_t now)
{
    if (c->endpoint != NULL) {
        /* Served here, on this task, and not charged to the receive queue: the reader released the charge. */
        endpoint_open(s, c, now);
        if (c->endpoint_open && c->state == WS_CONN_OPEN && c->endpoint->message != NULL) {
            ws_endpoint_conn_t conn = {s, c};
            c->endpoint->message(c->endpoint->ctx, &conn, ev->opcode, ev->data, ev->len, now);
        }
        free(ev->data);
        return;
    }
    /* The reader released the buffer's charge; it stays charged while it waits for the application. */
    ws_budget_add(&s->budget, ev->len + 1u);
    struct ws_pending *p = (struct ws_pending *)malloc(sizeof(*p));
    if (p == NULL) {
        ws_budget_release(&s->budget, ev->len + 1u);
        free(ev->data);
        ws_conn_close(c, &s->lim, WS_CLOSE_INTERNAL_ERROR, now);
        return;
    }
    p->item.payload = ev->data;
    p->item.len = ev->len;
    p->item.index = c->index;
    p->item.opcode = ev->opcode;
    p->item.ws_frame = 1;
    p->next = NULL;
    p->echo = NULL;
    if (c->pending_tail != NULL) {
        c->pending_tail->next = p;
    } else {
        c->pending_head = p;
    }
    c->pending_tail = p;
    if (s->echo) {
        /* The server answered: a close from this client does not wait for the application. */
        if (!echo_message(s, c, p, now)) {
            close_conn(s, c);
            return;
        }
    } else {
        ws_port_mutex_lock(g_recv_lock);
        c->answer_pending = g_recv_tracked; /* with ws_recv, a close from this client waits for the answers */
        ws_port_mutex_unlock(g_recv_lock);
    }
    flush_pending(s, c);
}

/* ---- socket handling ---- */

static void close_conn(ws_server_t *s, ws_conn_t *c)
{
    if (c->endpoint != NULL && c->endpoint_open) {
        c->endpoint_open = false;
        if (c->endpoint->closed != NULL) {
            c->endpoint->closed(c->endpoint->ctx, ws_port_now_ms());
        }
    }
    free_pending(s, c);
    int sock = c->sock;
    ws_conn_release(c);
    if (sock >= 0) {
        ws_port_close(sock);
    }
}

/* Writes as much of the send queue as the socket takes. Returns false if the socket failed. */
static bool flush_output(ws_conn_t *c)
{
    for (;;) {
        size_t len;
        const uint8_t *data = ws_sendq_peek(&c->sendq, &len);
        if (data == NULL) {
            break;
        }
        int32_t n = ws_port_send(c->sock, data, len);
        if (n == WS_PORT_AGAIN) {
            return true;
        }
        if (n < 0) {
            return false;
        }
        ws_sendq_advance(&c->sendq, (size_t)n);
    }
    if (c->state == WS_CONN_LINGER && !c->write_shut) {
        ws_port_shutdown_write(c->sock); /* everything said: FIN, then wait for the peer's */
        c->write_shut = true;
    }
    return true;
}

static void accept_clients(ws_server_t *s, uint32_t now)
{
    for (;;) {
        int sock = ws_port_accept(s->listener);
        if (sock == WS_PORT_ERROR) {
            s->accept_paused = true; /* lwIP out of sockets, or EMFILE: retry in a moment */
            s->accept_resume_ms = now + 100u;
            return;
        }
        if (sock < 0) {
            return;
        }
        ws_conn_t *c = ws_conn_table_alloc(&s->table);
        if (c == NULL || ws_conn_start(c, sock, &s->lim, now) != WS_OK) {
            /* No slot even for a handshake: answer 503 at once, best effort. */
            char text[160];
            size_t n = ws_http_write_error(text, sizeof(text), 503, s->lim.retry_after_s);
            (void)ws_port_send(sock, text, n);
            ws_port_close(sock);
            s->stats.rejected_full++;
            if (c != NULL) {
                ws_conn_release(c);
            }
            continue;
        }
    }
}

/* Reads once from a readable client and runs the bytes through its state machine. */
static void read_client(ws_server_t *s, ws_conn_t *c, uint32_t now)
{
    int32_t n = ws_port_recv(c->sock, s->rx, WS_SERVER_RX_CHUNK);
    if (n == WS_PORT_AGAIN) {
        return;
    }
    if (n <= 0) {
        if (ws_conn_peer_eof(c)) {
            close_conn(s, c);
        }
        return;
    }
    size_t pos = 0;
    while (pos < (size_t)n && c->state != WS_CONN_FREE) {
        ws_read_event_t msg;
        pos += ws_conn_input(c, &s->lim, &s->stats, s->rx + pos, (size_t)n - pos, now,
                             ws_conn_table_can_open(&s->table), &msg);
        endpoint_open(s, c, now); /* its hello before anything else it sends */
        if (msg.type == WS_READ_MESSAGE) {
            deliver(s, c, &msg, now);
        } else if (msg.type == WS_READ_PING && !flush_output(c)) {
            close_conn(s, c);
        }
    }
}

static void run_commands(ws_server_t *s, uint32_t now)
{
    ws_cmd_t cmd;
    while (ws_port_queue_recv(s->cmds, &cmd, 0) == 0) {
        if (cmd.buf == NULL) {
            s->stopping = true;
            s->stop_deadline_ms = now + s->lim.close_timeout_ms;
            for (uint16_t i = 0; i < s->table.size; i++) {
                ws_conn_t *c = &s->table.conns[i];
                if (c->state == WS_CONN_HANDSHAKE) {
                    close_conn(s, c);
                } else if (c->state == WS_CONN_OPEN) {
                    ws_conn_close(c, &s->lim, WS_CLOSE_GOING_AWAY, now);
                }
            }
            continue;
        }
        for (uint16_t i = 0; i < s->table.size; i++) {
            ws_conn_t *c = &s->table.conns[i];
            bool open = c->state == WS_CONN_OPEN || c->state == WS_CONN_FINISHING; /* before its close: fine */
            /* An endpoint's connection (/ota) speaks its own protocol and gets only what the endpoint sends: the
             * application's messages (its broadcast, a counter; a reply to a slot an endpoint took since) never. */
            if (open && c->endpoint == NULL && (cmd.index < 0 || cmd.index == (int)i)) {
                ws_conn_send(c, &s->lim, &s->stats, cmd.buf, now);
                /* Write at once: a burst of commands must not fill the queue of a client that reads fine. */
                if (!flush_output(c)) {
                    close_conn(s, c);
                }
            }
        }
        ws_buf_unref(cmd.buf);
    }
}

/*
 * Clients whose messages the application has finished with: a close that waited for the answers (FINISHING)
 * goes out now, behind the answers still in the command queue.
 */
static void check_answers(ws_server_t *s, uint32_t now)
{
    for (uint16_t i = 0; i < s->table.size; i++) {
        ws_conn_t *c = &s->table.conns[i];
        if (!c->answer_pending || !answers_done(c)) {
            continue;
        }
        if (c->state == WS_CONN_FINISHING) {
            run_commands(s, now); /* the answers were sent (ws_send) before the application came back for more */
        }
        if (c->state != WS_CONN_FREE) {
            ws_conn_answered(c, &s->lim, now);
        }
    }
}

static void server_task(void *arg)
{
    ws_server_t *s = (ws_server_t *)arg;
    for (;;) {
        uint32_t now = ws_port_now_ms();
        size_t n = 0;
        uint32_t timeout = 1000;
        bool any_pending = false;
        reconcile_queued(s);
        check_answers(s, now);
        if (s->accept_paused && ws_time_reached(now, s->accept_resume_ms)) {
            s->accept_paused = false;
        }
        if (!s->stopping && !s->accept_paused) {
            s->pfds[n] = (ws_port_pollfd_t){.sock = s->listener, .events = WS_PORT_POLL_IN};
            s->pconn[n++] = NULL;
        } else if (s->accept_paused && timeout > 100u) {
            timeout = 100u;
        }
        s->pfds[n] = (ws_port_pollfd_t){.sock = ws_port_waker_fd(s->waker), .events = WS_PORT_POLL_IN};
        s->pconn[n++] = NULL;
        size_t active = 0;
        for (uint16_t i = 0; i < s->table.size; i++) {
            ws_conn_t *c = &s->table.conns[i];
            if (c->state == WS_CONN_FREE) {
                continue;
            }
            active++;
            uint8_t ev = 0;
            if (ws_conn_wants_read(c)) {
                ev |= WS_PORT_POLL_IN;
            } else if (!echo_in_flight(c)) {
                any_pending = true; /* waiting for room in the receive queue (an echo waits for POLL_OUT) */
            }
            if (c->state == WS_CONN_FINISHING) {
                any_pending = true; /* look at the application's progress again soon */
            }
            if (!ws_sendq_empty(&c->sendq)) {
                ev |= WS_PORT_POLL_OUT;
            }
            s->pfds[n] = (ws_port_pollfd_t){.sock = c->sock, .events = ev};
            s->pconn[n++] = c;
            uint32_t due = ws_conn_next_deadline(c, &s->lim, now);
            uint32_t wait = ws_time_reached(now, due) ? 0u : due - now;
            if (wait < timeout) {
                timeout = wait;
            }
        }
        if (s->stopping && (active == 0 || ws_time_reached(now, s->stop_deadline_ms))) {
            break;
        }
        if (any_pending && timeout > 10u) {
            timeout = 10u; /* retry handing messages to a full receive queue */
        }
        if (ws_port_poll(s->pfds, n, timeout) < 0) {
            ws_port_sleep_ms(10); /* e.g. EINTR; never spin */
        }
        now = ws_port_now_ms();
        flush_pending_in_turn(s);
        for (size_t i = 0; i < n; i++) {
            ws_conn_t *c = s->pconn[i];
            uint8_t rev = s->pfds[i].revents;
            if (c == NULL) {
                if (rev == 0) {
                    continue;
                }
                if (s->pfds[i].sock == s->listener && !s->stopping) {
                    accept_clients(s, now);
                } else {
                    ws_port_waker_drain(s->waker);
                    run_commands(s, now);
                }
                continue;
            }
            if (c->state == WS_CONN_FREE || c->sock != s->pfds[i].sock) {
                continue; /* closed earlier in this round */
            }
            if (c->pending_head != NULL) {
                flush_pending(s, c);
            }
            if (rev & (WS_PORT_POLL_IN | WS_PORT_POLL_ERR)) {
                read_client(s, c, now);
            }
            if (c->state != WS_CONN_FREE && !flush_output(c)) {
                close_conn(s, c);
            }
        }
        /* Frames queued by commands for clients polled before the waker, and timers. */
        for (uint16_t i = 0; i < s->table.size; i++) {
            ws_conn_t *c = &s->table.conns[i];
            if (c->state == WS_CONN_FREE) {
                continue;
            }
            if (ws_conn_tick(c, &s->lim, &s->stats, now) || !flush_output(c)) {
                close_conn(s, c);
            } else if (c->pending_head != NULL) {
                flush_pending(s, c); /* echoes written just now: their messages go to the application */
            }
        }
        check_answers(s, now); /* a failure read just now, with the application already done */
        s->stats.rx_held = (uint32_t)s->budget.used;
        s->stats.rx_peak = (uint32_t)s->budget.peak;
        s->stats.open_clients = ws_conn_table_open_count(&s->table);
        ws_port_mutex_lock(s->stats_lock);
        s->stats_published = s->stats;
        ws_port_mutex_unlock(s->stats_lock);
    }
    for (uint16_t i = 0; i < s->table.size; i++) {
        if (s->table.conns[i].state != WS_CONN_FREE) {
            close_conn(s, &s->table.conns[i]);
        }
    }
}

/* ---- public API ---- */

static void server_free(ws_server_t *s)
{
    if (s->listener >= 0) {
        ws_port_close(s->listener);
    }
    if (s->cmds != NULL) {
        ws_cmd_t cmd;
        while (ws_port_queue_recv(s->cmds, &cmd, 0) == 0) {
            ws_buf_unref(cmd.buf);
        }
        ws_port_queue_destroy(s->cmds);
    }
    if (s->waker != NULL) {
        ws_port_waker_destroy(s->waker);
    }
    ws_conn_table_free(&s->table);
    if (s->stats_lock != NULL) {
        ws_port_mutex_destroy(s->stats_lock);
    }
    free(s->rx);
    free(s->pfds);
    free(s->pconn);
    free(s->queued);
    free(s->origins);
    free(s->local_name);
    free(s);
}

ws_err_t ws_server_init(const ws_server_cfg_t *cfg)
{
    static const ws_server_cfg_t defaults = {0};
    if (cfg == NULL) {
        cfg = &defaults;
    }
    if (g_lock == NULL) {
        g_lock = ws_port_mutex_create();
        if (g_lock == NULL) {
            return WS_ERR_NO_MEM;
        }
    }
    if (g_server != NULL) {
        return WS_ERR_STATE;
    }
    uint32_t max_message = or_default(cfg->max_message, WS_SERVER_DEFAULT_MAX_MESSAGE);
    uint32_t rx_budget = or_default(cfg->rx_budget, WS_SERVER_DEFAULT_RX_BUDGET);
    if (rx_budget <= max_message) {
        return WS_ERR_ARG; /* one largest message (and its NUL) must fit */
    }
    if (g_recv_queue == NULL) {
        g_recv_queue_len = or_default(cfg->recv_queue_len, WS_SERVER_DEFAULT_RECV_QUEUE_LEN);
        g_recv_queue = ws_port_queue_create(sizeof(ws_queue_item_t *), g_recv_queue_len);
        g_recv_lock = ws_port_mutex_create();
        if (g_recv_queue == NULL || g_recv_lock == NULL) {
            ws_port_queue_destroy(g_recv_queue);
            ws_port_mutex_destroy(g_recv_lock);
            g_recv_queue = NULL;
            g_recv_lock = NULL;
            return WS_ERR_NO_MEM;
        }
    }
    ws_server_t *s = (ws_server_t *)calloc(1, sizeof(*s));
    if (s == NULL) {
        return WS_ERR_NO_MEM;
    }
    s->listener = -1;
    ws_budget_init(&s->budget, rx_budget);
    s->lim.rx_budget = &s->budget;
    s->lim.max_message = max_message;
    s->lim.send_queue_len = or_default(cfg->send_queue_len, WS_SERVER_DEFAULT_SEND_QUEUE_LEN);
    s->lim.ping_interval_ms = or_default(cfg->ping_interval_ms, WS_SERVER_DEFAULT_PING_INTERVAL_MS);
    s->lim.close_timeout_ms = or_default(cfg->close_timeout_ms, WS_SERVER_DEFAULT_CLOSE_TIMEOUT_MS);
    s->lim.handshake_timeout_ms = or_default(cfg->handshake_timeout_ms, WS_SERVER_DEFAULT_HANDSHAKE_TIMEOUT_MS);
    s->lim.retry_after_s = or_default(cfg->retry_after_s, WS_SERVER_DEFAULT_RETRY_AFTER_S);
    s->lim.answer_timeout_ms = s->lim.close_timeout_ms;
    s->echo = cfg->echo;
    s->lim.endpoints = cfg->endpoints;
    s->lim.endpoint_count = cfg->endpoints != NULL ? cfg->endpoint_count : 0u;
    s->origins =
        copy_string(cfg->allowed_origins != NULL ? cfg->allowed_origins : WS_SERVER_DEFAULT_ALLOWED_ORIGINS, "");
    s->local_name = cfg->hostname != NULL && cfg->hostname[0] != '\0' ? copy_string(cfg->hostname, ".local") : NULL;
    bool origins_ok = s->origins != NULL && (s->local_name != NULL || cfg->hostname == NULL || cfg->hostname[0] == 0);
    s->origin_policy = (ws_origin_policy_t){.allow_list = s->origins, .local_name = s->local_name};
    s->lim.origins = WS_SERVER_ORIGIN_CHECK_ON ? &s->origin_policy : NULL;
    s->queued_cap = g_recv_queue_len + 1u;
    s->queued = (size_t *)calloc(s->queued_cap, sizeof(size_t));
    uint16_t max_clients = (uint16_t)or_default(cfg->max_clients, WS_SERVER_DEFAULT_MAX_CLIENTS);
    uint16_t slots = (uint16_t)(max_clients + WS_SERVER_EXTRA_SLOTS);
    ws_err_t err = ws_conn_table_init(&s->table, slots, max_clients);
    s->rx = (uint8_t *)malloc(WS_SERVER_RX_CHUNK);
    s->pfds = (ws_port_pollfd_t *)calloc((size_t)slots + 2u, sizeof(ws_port_pollfd_t));
    s->pconn = (ws_conn_t **)calloc((size_t)slots + 2u, sizeof(ws_conn_t *));
    s->cmds = ws_port_queue_create(sizeof(ws_cmd_t), WS_SERVER_CMD_QUEUE_LEN);
    s->waker = ws_port_waker_create();
    s->stats_lock = ws_port_mutex_create();
    if (err != WS_OK || s->rx == NULL || s->pfds == NULL || s->pconn == NULL || s->cmds == NULL || s->waker == NULL ||
        s->stats_lock == NULL || s->queued == NULL || !origins_ok) {
        server_free(s);
        return err == WS_ERR_ARG ? WS_ERR_ARG : WS_ERR_NO_MEM;
    }
    uint16_t want = cfg->port; /* 0 stays 0: an ephemeral port, for tests */
    s->listener = ws_port_listen(want, (int)max_clients + 2, &s->port);
    if (s->listener < 0) {
        server_free(s);
        return WS_ERR_PORT;
    }
    s->task = ws_port_task_start(server_task, s, "ws_server", or_default(cfg->task_stack, WS_SERVER_DEFAULT_TASK_STACK),
                                 or_default(cfg->task_priority, WS_SERVER_DEFAULT_TASK_PRIORITY));
    if (s->task == NULL) {
        server_free(s);
        return WS_ERR_PORT;
    }
    ws_port_mutex_lock(g_lock);
    g_server = s;
    ws_port_mutex_unlock(g_lock);
    return WS_OK;
}

ws_err_t ws_server_stop(void)
{
    if (g_lock == NULL) {
        return WS_ERR_STATE;
    }
    ws_port_mutex_lock(g_lock);
    ws_server_t *s = g_server;
    g_server = NULL;
    ws_port_mutex_unlock(g_lock);
    if (s == NULL) {
        return WS_ERR_STATE;
    }
    ws_cmd_t stop = {.buf = NULL, .index = -1};
    ws_port_queue_send(s->cmds, &stop, WS_PORT_WAIT_FOREVER);
    ws_port_waker_signal(s->waker);
    ws_port_task_join(s->task);
    server_free(s);
    return WS_OK;
}

ws_port_queue_t *ws_get_recv_queue(void) { return g_recv_queue; }

ws_err_t ws_server_endpoint_send(ws_endpoint_conn_t *conn, int opcode, const void *data, size_t len)
{
    if (conn == NULL || (data == NULL && len > 0) || (opcode != WS_OP_TXT && opcode != WS_OP_BIN)) {
        return WS_ERR_ARG;
    }
    if (conn->c->state != WS_CONN_OPEN) {
        return WS_ERR_STATE;
    }
    ws_buf_t *b = ws_buf_new_frame((uint8_t)opcode, (const uint8_t *)data, len);
    if (b == NULL) {
        return WS_ERR_NO_MEM;
    }
    /* The clock read now, not the loop's: an endpoint's callback may have taken seconds (/ota verifies the image). */
    ws_err_t err = ws_conn_send(conn->c, &conn->s->lim, &conn->s->stats, b, ws_port_now_ms());
    ws_buf_unref(b);
    return err; /* the loop writes it after the callback, with everything else this client has queued */
}

void ws_server_endpoint_close(ws_endpoint_conn_t *conn, uint16_t code)
{
    if (conn != NULL) {
        /* The close timeout counts from now: from the loop's clock, read before a callback that verified an image
         * for 10 s, the deadline had passed and the socket was closed at once, with the answers still in lwIP's
         * send buffer and /ota's restart 10 ms behind them (the emulated ESP32's client never got `rebooting`). */
        ws_conn_close_queued(conn->c, &conn->s->lim, code, ws_port_now_ms());
    }
}

ws_err_t ws_recv(ws_queue_item_t **item, uint32_t wait_ms)
{
    if (item == NULL) {
        return WS_ERR_ARG;
    }
    if (g_recv_queue == NULL) {
        return WS_ERR_STATE;
    }
    ws_port_mutex_lock(g_recv_lock);
    g_recv_tracked = true;
    g_recv_done = g_recv_taken; /* back for more: done with everything taken before */
    ws_port_mutex_unlock(g_recv_lock);
    if (ws_port_queue_recv(g_recv_queue, item, wait_ms) != 0) {
        return WS_ERR_TIMEOUT;
    }
    ws_port_mutex_lock(g_recv_lock);
    g_recv_taken++;
    ws_port_mutex_unlock(g_recv_lock);
    return WS_OK;
}

void ws_item_free(ws_queue_item_t *item)
{
    if (item != NULL) {
        free(item->payload);
        free(item);
    }
}

ws_err_t ws_send(const ws_queue_item_t *item, uint32_t wait_ms)
{
    if (item == NULL || (item->payload == NULL && item->len > 0) ||
        (item->opcode != WS_OP_TXT && item->opcode != WS_OP_BIN)) {
        return WS_ERR_ARG;
    }
    if (g_lock == NULL) {
        return WS_ERR_STATE;
    }
    /* Encode outside the lock: the frame is built once, whatever the number of recipients. */
    ws_cmd_t cmd = {.buf = ws_buf_new_frame((uint8_t)item->opcode, item->payload, item->len), .index = item->index};
    if (cmd.buf == NULL) {
        return WS_ERR_NO_MEM;
    }
    ws_err_t err = WS_OK;
    ws_port_mutex_lock(g_lock);
    if (g_server == NULL) {
        err = WS_ERR_STATE;
    } else if (ws_port_queue_send(g_server->cmds, &cmd, wait_ms) != 0) {
        err = WS_ERR_TIMEOUT;
    } else {
        ws_port_waker_signal(g_server->waker);
    }
    ws_port_mutex_unlock(g_lock);
    if (err != WS_OK) {
        ws_buf_unref(cmd.buf);
    }
    return err;
}

uint16_t ws_server_port(void)
{
    if (g_lock == NULL) {
        return 0;
    }
    ws_port_mutex_lock(g_lock);
    uint16_t port = g_server != NULL ? g_server->port : 0;
    ws_port_mutex_unlock(g_lock);
    return port;
}

ws_err_t ws_server_get_stats(ws_stats_t *out)
{
    if (out == NULL) {
        return WS_ERR_ARG;
    }
    if (g_lock == NULL) {
        return WS_ERR_STATE;
    }
    ws_port_mutex_lock(g_lock);
    ws_err_t err = g_server != NULL ? WS_OK : WS_ERR_STATE;
    if (g_server != NULL) {
        ws_port_mutex_lock(g_server->stats_lock);
        *out = g_server->stats_published;
        ws_port_mutex_unlock(g_server->stats_lock);
    }
    ws_port_mutex_unlock(g_lock);
    return err;
}

void ws_server_release_recv_queue(void)
{
    if (g_recv_queue == NULL) {
        return;
    }
    ws_queue_item_t *item;
    while (ws_port_queue_recv(g_recv_queue, &item, 0) == 0) {
        ws_item_free(item);
    }
    ws_port_queue_destroy(g_recv_queue);
    g_recv_queue = NULL;
    ws_port_mutex_destroy(g_recv_lock);
    g_recv_lock = NULL;
    g_recv_pushed = g_recv_taken = g_recv_done = 0;
    g_recv_tracked = false;
    if (g_server == NULL && g_lock != NULL) {
        ws_port_mutex_destroy(g_lock);
        g_lock = NULL;
    }
}
