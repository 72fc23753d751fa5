/* ws_endpoint.c - finding the endpoint of a handshake's path (ws_endpoint.h). */
#include "ws_endpoint.h"

#include <string.h>

const ws_endpoint_t *ws_endpoint_find(const ws_endpoint_t *eps, size_t n, const char *path, size_t path_len)
{
    if (eps == NULL || path == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (eps[i].path != NULL && strlen(eps[i].path) == path_len && memcmp(eps[i].path, path, path_len) == 0) {
            return &eps[i];
        }
    }
    return NULL;
}
