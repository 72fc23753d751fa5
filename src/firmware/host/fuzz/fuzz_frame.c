/*
 * libFuzzer target: the incremental frame reader, fed the input in pieces whose sizes come from the input. The
 * reader's budget (3000 bytes) is below its maximum message (4096), so both 1008 and 1009 are reachable; the
 * budget's accounting must come back to zero and never pass the limit by more than one reserve.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ws_reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    /* First byte: chunk size (1..256) so splits inside headers and payloads are explored. */
    size_t chunk = (size_t)data[0] + 1u;
    data++;
    size--;
    ws_budget_t budget;
    ws_budget_init(&budget, 3000);
    ws_reader_t r;
    ws_reader_init(&r, 4096, &budget);
    size_t pos = 0;
    while (pos < size) {
        size_t n = size - pos < chunk ? size - pos : chunk;
        size_t off = 0;
        while (off < n) {
            ws_read_event_t ev;
            size_t used = ws_reader_feed(&r, data + pos + off, n - off, &ev);
            if (used == 0 && ev.type == WS_READ_NEED_MORE) {
                abort(); /* no progress would loop forever */
            }
            off += used;
            if (budget.used > budget.limit + WS_BUDGET_RESERVE || budget.used != r.msg_cap) {
                abort(); /* the charge is exactly the buffer being reassembled */
            }
            if (ev.type == WS_READ_MESSAGE) {
                if (ev.data[ev.len] != 0) {
                    abort();
                }
                free(ev.data);
            }
        }
        pos += n;
    }
    ws_reader_free(&r);
    if (budget.used != 0) {
        abort();
    }
    return 0;
}
