/*
 * ws_budget.h - the receive memory budget shared by every client of one server.
 *
 * RFC 6455 section 10.4: "implementations SHOULD impose a limit on frame sizes and the total message size after
 * reassembly from multiple frames", to protect against peers that exhaust memory. The per-message limit is
 * max_message (close 1009). This budget is the other half: the bytes of message buffers the server holds for all
 * clients together (messages being reassembled, and complete ones not yet taken by the application). A client
 * whose buffer would have to grow beyond it is closed with 1008 and its memory released; the others go on.
 *
 * Every message buffer may always grow to WS_BUDGET_RESERVE bytes, even with the budget used up, so a client
 * sending small messages is served while others hold the budget: the bytes in use may exceed the limit by at
 * most one reserve per open client.
 *
 * No locking: only the server task touches a budget.
 */
#ifndef WS_BUDGET_H
#define WS_BUDGET_H

#include <stdbool.h>
#include <stddef.h>

#include "ws_err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WS_BUDGET_RESERVE 256u /* bytes of one message buffer that never count against the limit check */

typedef struct {
    size_t limit;     /* bytes all clients' message buffers may hold; 0 = no limit */
    size_t used;      /* bytes held now */
    size_t peak;      /* most bytes held at once */
    unsigned refused; /* growths refused (clients closed with 1008) */
} ws_budget_t;

/* Prepares an empty budget of limit bytes (0 = unlimited). Returns WS_OK or WS_ERR_ARG (b NULL). */
ws_err_t ws_budget_init(ws_budget_t *b, size_t limit);

/*
 * Asks for n more bytes for a buffer that will then hold new_size bytes. Granted if the budget is NULL or
 * unlimited, if new_size <= WS_BUDGET_RESERVE, or if used + n stays within the limit.
 * Returns WS_OK (charged) or WS_ERR_FULL (nothing charged, counted in refused).
 */
ws_err_t ws_budget_take(ws_budget_t *b, size_t n, size_t new_size);

/* Whether ws_budget_take(b, n, new_size) would be granted now; charges and counts nothing. */
bool ws_budget_fits(const ws_budget_t *b, size_t n, size_t new_size);

/* Charges n bytes without a check: bytes that already exist change hands (e.g. a message moving to a queue). */
void ws_budget_add(ws_budget_t *b, size_t n);

/* Gives n bytes back. NULL is ignored; never goes below zero. */
void ws_budget_release(ws_budget_t *b, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* WS_BUDGET_H */
