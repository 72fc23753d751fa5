// The C headers of the core and the app, for the C++ tests.
#pragma once
extern "C" {
#include "ws_app.h"
#include "ws_base64.h"
#include "ws_conn.h"
#include "ws_endpoint.h"
#include "ws_frame.h"
#include "ws_hmac.h"
#include "ws_http.h"
#include "ws_json.h"
#include "ws_origin.h"
#include "ws_ota.h"
#include "ws_ota_engine.h"
#include "ws_ota_image.h"
#include "ws_ota_port.h"
#include "ws_otadata.h"
#include "ws_port.h"
#include "ws_reader.h"
#include "ws_sendq.h"
#include "ws_server.h"
#include "ws_sha1.h"
#include "ws_sha256.h"
#include "ws_utf8.h"
}

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using Bytes = std::vector<uint8_t>;

// A masked client frame, built independently of ws_frame_write_header so the tests do not trust the code under test.
inline Bytes ClientFrame(uint8_t opcode, const Bytes &payload, bool fin = true, uint8_t rsv = 0, bool mask = true)
{
    static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    Bytes out;
    out.push_back(static_cast<uint8_t>((fin ? 0x80 : 0) | (rsv << 4) | opcode));
    uint8_t m = mask ? 0x80 : 0;
    size_t n = payload.size();
    if (n < 126) {
        out.push_back(static_cast<uint8_t>(m | n));
    } else if (n < 65536) {
        out.push_back(m | 126);
        out.push_back(static_cast<uint8_t>(n >> 8));
        out.push_back(static_cast<uint8_t>(n));
    } else {
        out.push_back(m | 127);
        for (int i = 7; i >= 0; i--) {
            out.push_back(static_cast<uint8_t>(static_cast<uint64_t>(n) >> (8 * i)));
        }
    }
    if (mask) {
        out.insert(out.end(), key, key + 4);
    }
    for (size_t i = 0; i < n; i++) {
        out.push_back(mask ? static_cast<uint8_t>(payload[i] ^ key[i % 4]) : payload[i]);
    }
    return out;
}

inline Bytes B(const std::string &s) { return Bytes(s.begin(), s.end()); }

inline Bytes Concat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const auto &p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

// Feeds bytes in chunks of `chunk`, collecting every event; message buffers are copied and freed.
struct ReadResult {
    std::vector<ws_read_event_type_t> types;
    std::vector<std::string> messages;
    std::vector<uint8_t> opcodes;
    uint16_t close_code = 0;
};

inline ReadResult FeedAll(ws_reader_t *r, const Bytes &in, size_t chunk)
{
    ReadResult res;
    size_t pos = 0;
    while (pos < in.size()) {
        size_t n = std::min(chunk, in.size() - pos);
        size_t off = 0;
        while (off < n) {
            ws_read_event_t ev;
            off += ws_reader_feed(r, in.data() + pos + off, n - off, &ev);
            if (ev.type == WS_READ_NEED_MORE) {
                continue;
            }
            res.types.push_back(ev.type);
            if (ev.type == WS_READ_MESSAGE) {
                res.messages.emplace_back(reinterpret_cast<char *>(ev.data), ev.len);
                res.opcodes.push_back(ev.opcode);
                free(ev.data);
            } else if (ev.type == WS_READ_PING || ev.type == WS_READ_PONG) {
                res.messages.emplace_back(reinterpret_cast<char *>(ev.data), ev.len);
            } else {
                res.close_code = ev.close_code;
            }
        }
        pos += n;
    }
    return res;
}
