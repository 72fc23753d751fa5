/* libFuzzer target: the handshake parser, the Origin rule (ws_origin.h) on what it parsed, the response writers. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws_http.h"
#include "ws_origin.h"

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
            ws_http_write_101(out, sizeof(out), req.accept, NULL) == 0) {
            abort();
        }
        if ((req.origin == NULL) != (req.origin_count == 0) ||
            (req.origin != NULL && (req.origin < buf || req.origin + req.origin_len > buf + req.request_len))) {
            abort(); /* the Origin value lies inside the request */
        }
        if (req.host == NULL || req.host < buf || req.host + req.host_len > buf + req.request_len) {
            abort(); /* exactly one Host, inside the request */
        }
        ws_origin_policy_t listed = {.allow_list = "http://a.example, HTTPS://B.example:8443/ ,",
                                     .local_name = "dev.local"};
        ws_origin_policy_t any = {.allow_list = "*", .local_name = NULL};
        ws_origin_policy_t none = {.allow_list = "", .local_name = NULL};
        ws_origin_verdict_t v = ws_origin_check(&listed, req.origin, req.origin_len, req.host, req.host_len);
        if ((req.origin == NULL) != (v == WS_ORIGIN_ABSENT) || v < WS_ORIGIN_ABSENT || v > WS_ORIGIN_FOREIGN) {
            abort(); /* no Origin, and only then: rule 1 */
        }
        if (!ws_origin_accepted(ws_origin_check(&any, req.origin, req.origin_len, req.host, req.host_len))) {
            abort(); /* "*" admits every page */
        }
        ws_origin_verdict_t plain = ws_origin_check(&none, req.origin, req.origin_len, req.host, req.host_len);
        if (plain == WS_ORIGIN_ANY || plain == WS_ORIGIN_LISTED ||
            (ws_origin_accepted(plain) && !ws_origin_accepted(v))) {
            abort(); /* listing origins only ever admits more */
        }
        if (!ws_origin_accepted(v) && ws_http_write_error(out, sizeof(out), 403, 0) == 0) {
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
