/* libFuzzer target: the handshake parser and the response writers. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy into an exact-size heap buffer so ASan sees any read past the end. */
    char *buf = (char *)malloc(size + 1u);
    if (buf == NULL) {
        return 0;
    }
    memcpy(buf, data, size);
    ws_http_request_t req;
    int r = ws_http_parse_upgrade(buf, size, &req);
    char out[256];
    if (r == WS_HTTP_UPGRADE) {
        if (req.request_len > size || strlen(req.accept) != WS_HTTP_ACCEPT_LEN ||
            ws_http_write_101(out, sizeof(out), req.accept) == 0) {
            abort();
        }
    } else if (r == WS_HTTP_REJECT) {
        if (req.status != 400 && req.status != 426) {
            abort();
        }
        (void)ws_http_write_error(out, sizeof(out), req.status, 5);
    }
    free(buf);
    return 0;
}
