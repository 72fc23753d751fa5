/* libFuzzer target: the handshake parser, the Origin allow-list check and the response writers. */
#include <stdbool.h>
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
        if ((req.origin == NULL) != (req.origin_count == 0) ||
            (req.origin != NULL && (req.origin < buf || req.origin + req.origin_len > buf + req.request_len))) {
            abort(); /* the Origin value lies inside the request */
        }
        bool listed = ws_http_origin_allowed("http://a.example, HTTPS://B.example:8443 ,", req.origin, req.origin_len);
        if (req.origin == NULL && !listed) {
            abort(); /* no Origin: always allowed */
        }
        if (!ws_http_origin_allowed("*", req.origin, req.origin_len) ||
            (req.origin != NULL && ws_http_origin_allowed("", req.origin, req.origin_len))) {
            abort();
        }
        if (!listed && ws_http_write_error(out, sizeof(out), 403, 0) == 0) {
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
