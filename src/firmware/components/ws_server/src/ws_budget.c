/* ws_budget.c - the shared receive memory budget (RFC 6455 section 10.4). */
#include "ws_budget.h"

ws_err_t ws_budget_init(ws_budget_t *b, size_t limit)
{
    if (b == NULL) {
        return WS_ERR_ARG;
    }
    b->limit = limit;
    b->used = 0;
    b->peak = 0;
    b->refused = 0;
    return WS_OK;
}

void ws_budget_add(ws_budget_t *b, size_t n)
{
    if (b == NULL) {
        return;
    }
    b->used += n;
    if (b->used > b->peak) {
        b->peak = b->used;
    }
}

bool ws_budget_fits(const ws_budget_t *b, size_t n, size_t new_size)
{
    return b == NULL || b->limit == 0 || new_size <= WS_BUDGET_RESERVE ||
           (b->used <= b->limit && n <= b->limit - b->used);
}

ws_err_t ws_budget_take(ws_budget_t *b, size_t n, size_t new_size)
{
    if (b == NULL) {
        return WS_OK;
    }
    if (!ws_budget_fits(b, n, new_size)) {
        b->refused++;
        return WS_ERR_FULL;
    }
    ws_budget_add(b, n);
    return WS_OK;
}

void ws_budget_release(ws_budget_t *b, size_t n)
{
    if (b == NULL) {
        return;
    }
    b->used = n < b->used ? b->used - n : 0u;
}
