/*
 * echo_load: a second, independent load generator for the echo benchmarks (bench/run.py's echo64-c and echo5-c),
 * so that a server's CPU per round trip is not only what wsctl's own generator makes of it.
 *
 *   echo_load ws://HOST:PORT/PATH [--clients N] [--seconds S] [--size BYTES] [--rate R]
 *
 * One thread, one epoll set, N connections each with one message outstanding: a masked text frame of BYTES
 * printable ASCII bytes, different for every message, sent again as soon as its echo arrived whole and equal to
 * what was sent, byte for byte; with --rate, at most R messages a second in all: a connection whose echo came
 * waits in turn for the next slot of an even schedule, so that servers compared at one offered rate, below what
 * either end can do, are measured with neither end saturated. After S seconds no new message is sent; the
 * outstanding ones are awaited (up to 5 s), every connection is closed with 1000, and one JSON line goes to stdout
 * with the same names as `wsctl bench --json` (sent, received, lost, errors, seconds, messages_per_second,
 * latency_us, generator_*; rate).
 * Exit code 0 when every connection connected and every message came back equal, 1 otherwise, 2 for bad usage.
 *
 * Built by bench/run.sh with gcc -O2 -Wall -Wextra -Werror; tests/WsCore.Tests/Bench/EchoLoadGeneratorTests.cs
 * builds it the same way and runs it against `wsctl serve --echo`. RFC sections cited are RFC 6455's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ws_accept.h"

enum {
    MAX_MESSAGE_BYTES = 16384,
    /* Room for one data frame in each direction plus control frames around it. */
    IN_CAPACITY = MAX_MESSAGE_BYTES + 4096,
    OUT_CAPACITY = 2 * (MAX_MESSAGE_BYTES + 14) + 512,
    HANDSHAKE_CAPACITY = 4096,
    MAX_ERROR_SAMPLES = 5,
    DRAIN_SECONDS = 5,
    CLOSE_WAIT_MS = 1000,
    SOCKET_TIMEOUT_SECONDS = 5,
};

/* Same threshold as WsCore's BenchResult.SaturatedShare: at 90% of its core the generator may be the limit. */
static const double SATURATED_SHARE = 0.9;

/* ---- options ---- */

struct options {
    char target[512];
    char host[256];
    char port[16];
    char path[256];
    int clients;
    double seconds;
    size_t size;
    double rate; /* messages per second in all; 0: each connection sends again as soon as its echo came */
};

static void usage(const char *why) {
    fprintf(stderr, "echo_load: %s\nusage: echo_load ws://HOST:PORT/PATH [--clients N] [--seconds S] "
                    "[--size BYTES (1-%d)] [--rate R]\n", why, MAX_MESSAGE_BYTES);
    exit(2);
}

static void parse_target(struct options *o, const char *url) {
    if (strncmp(url, "ws://", 5) != 0 || strlen(url) >= sizeof o->target) usage("the target must be ws://HOST:PORT/");
    snprintf(o->target, sizeof o->target, "%s", url);
    const char *host = url + 5, *host_end;
    if (*host == '[') {
        host++;
        host_end = strchr(host, ']');
        if (!host_end) usage("an IPv6 address needs its closing ]");
    } else {
        host_end = host + strcspn(host, ":/");
    }
    size_t host_length = (size_t)(host_end - host);
    if (host_length == 0 || host_length >= sizeof o->host) usage("the target has no host");
    memcpy(o->host, host, host_length);
    o->host[host_length] = 0;
    const char *after = host_end + (*host_end == ']');
    snprintf(o->port, sizeof o->port, "80");
    if (*after == ':') {
        size_t port_length = strcspn(after + 1, "/");
        if (port_length == 0 || port_length >= sizeof o->port) usage("the target's port is not a number");
        memcpy(o->port, after + 1, port_length);
        o->port[port_length] = 0;
        after += 1 + port_length;
    }
    snprintf(o->path, sizeof o->path, "%s", *after == '/' ? after : "/");
}

static struct options parse_options(int argc, char **argv) {
    struct options o = {.clients = 64, .seconds = 10, .size = 32};
    bool have_target = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        if (strcmp(a, "--clients") == 0 && has_value) o.clients = atoi(argv[++i]);
        else if (strcmp(a, "--seconds") == 0 && has_value) o.seconds = atof(argv[++i]);
        else if (strcmp(a, "--size") == 0 && has_value) o.size = (size_t)atol(argv[++i]);
        else if (strcmp(a, "--rate") == 0 && has_value) {
            /* 0 means no limit, so a value that is not a number must not pass for one (atof gives 0). */
            char *end;
            o.rate = strtod(argv[++i], &end);
            if (end == argv[i] || *end != 0) o.rate = -1;
        }
        else if (a[0] != '-' && !have_target) parse_target(&o, a), have_target = true;
        else usage("unknown or incomplete argument");
    }
    if (!have_target) usage("no target");
    if (o.clients < 1 || o.clients > 60000) usage("--clients must be 1 to 60000");
    if (!(o.seconds > 0 && o.seconds <= 3600)) usage("--seconds must be more than 0 and at most 3600");
    if (o.size < 1 || o.size > MAX_MESSAGE_BYTES) usage("--size out of range");
    if (!(o.rate >= 0 && o.rate <= 10e6)) usage("--rate must be 0 (no limit) to 10000000 messages a second");
    return o;
}

/* ---- time, randomness, results ---- */

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double process_cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec +
           (double)usage.ru_stime.tv_usec / 1e6;
}

/* Masking keys (RFC 6455 §5.3) from xorshift64*, seeded by the kernel: servers cannot predict them, and a
 * per-frame getrandom() call would be a system call per message on the generator's side of the figure. */
static uint64_t random_state;

static uint32_t next_mask(void) {
    random_state ^= random_state >> 12;
    random_state ^= random_state << 25;
    random_state ^= random_state >> 27;
    return (uint32_t)((random_state * 0x2545F4914F6CDD1DULL) >> 32);
}

/* Round-trip times: 1 µs buckets below 10 ms, 100 µs buckets up to 1 s, then one overflow bucket. */
enum { FINE_BUCKETS = 10000, COARSE_BUCKETS = 9900, BUCKETS = FINE_BUCKETS + COARSE_BUCKETS + 1 };
static uint64_t latency_buckets[BUCKETS];
static uint64_t latency_count;
static double latency_max_us;

static void record_latency(double us) {
    size_t bucket = us < FINE_BUCKETS ? (size_t)us
                    : us < 1e6        ? FINE_BUCKETS + (size_t)((us - FINE_BUCKETS) / 100)
                                      : BUCKETS - 1;
    latency_buckets[bucket]++;
    latency_count++;
    if (us > latency_max_us) latency_max_us = us;
}

static double latency_percentile(double fraction) {
    if (latency_count == 0) return 0;
    uint64_t rank = (uint64_t)(fraction * (double)(latency_count - 1)) + 1, seen = 0;
    for (size_t b = 0; b < BUCKETS; b++) {
        seen += latency_buckets[b];
        if (seen >= rank)
            return b < FINE_BUCKETS ? (double)b : b < BUCKETS - 1 ? FINE_BUCKETS + (double)(b - FINE_BUCKETS) * 100
                                                                  : latency_max_us;
    }
    return latency_max_us;
}

static uint64_t messages_sent, messages_received, error_count;
static char error_samples[MAX_ERROR_SAMPLES][160];
static int error_sample_count;

/* ---- connections ---- */

struct connection {
    int fd;
    int id;
    bool open;
    bool awaiting_echo;  /* one message outstanding */
    bool in_message;     /* its first frame came, continuation frames may follow (RFC 6455 §5.4) */
    bool closing;        /* our close frame is out; the server's close or EOF ends the connection */
    uint64_t sequence;
    double sent_at;
    size_t matched;      /* bytes of the echo compared so far */
    unsigned char *expected;
    unsigned char in[IN_CAPACITY];
    size_t in_length;
    unsigned char out[OUT_CAPACITY];
    size_t out_length, out_offset;
    bool watching_writable;
};

static struct options options;
static struct connection *connections;
static int epoll_fd;
static int open_count, outstanding;
static bool stopping;

static void fail(struct connection *c, const char *format, ...) {
    error_count++;
    if (error_sample_count < MAX_ERROR_SAMPLES) {
        char text[140];
        va_list args;
        va_start(args, format);
        vsnprintf(text, sizeof text, format, args);
        va_end(args);
        snprintf(error_samples[error_sample_count++], sizeof error_samples[0], "connection %d: %s",
                 c ? c->id : -1, text);
    }
    if (c && c->open) {
        close(c->fd);
        c->open = false;
        open_count--;
        if (c->awaiting_echo) outstanding--, c->awaiting_echo = false;
    }
}

static void watch(struct connection *c, bool writable) {
    if (c->watching_writable == writable) return;
    struct epoll_event event = {.events = EPOLLIN | (writable ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &event);
    c->watching_writable = writable;
}

static void flush(struct connection *c) {
    while (c->open && c->out_offset < c->out_length) {
        ssize_t n = send(c->fd, c->out + c->out_offset, c->out_length - c->out_offset, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_offset += (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            watch(c, true);
            return;
        } else {
            fail(c, "send: %s", n < 0 ? strerror(errno) : "nothing written");
            return;
        }
    }
    c->out_offset = c->out_length = 0;
    if (c->open) watch(c, false);
}

/* A client frame (RFC 6455 §5.2): FIN, the opcode, MASK set with a fresh key (§5.3), the payload masked. */
static bool queue_frame(struct connection *c, int opcode, const unsigned char *payload, size_t length) {
    if (c->out_offset > 0 && c->out_offset == c->out_length) c->out_offset = c->out_length = 0;
    if (OUT_CAPACITY - c->out_length < length + 14) {
        fail(c, "the server does not read: %zu bytes unsent", c->out_length - c->out_offset);
        return false;
    }
    unsigned char *f = c->out + c->out_length;
    size_t h = 0;
    f[h++] = (unsigned char)(0x80 | opcode);
    if (length < 126) {
        f[h++] = (unsigned char)(0x80 | length);
    } else if (length <= 0xFFFF) {
        f[h++] = 0x80 | 126;
        f[h++] = (unsigned char)(length >> 8), f[h++] = (unsigned char)length;
    } else {
        f[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--) f[h++] = (unsigned char)((uint64_t)length >> (8 * i));
    }
    uint32_t key = next_mask();
    unsigned char mask[4] = {(unsigned char)(key >> 24), (unsigned char)(key >> 16), (unsigned char)(key >> 8),
                             (unsigned char)key};
    memcpy(f + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < length; i++) f[h + i] = payload[i] ^ mask[i & 3];
    c->out_length += h + length;
    return true;
}

/* The next message: printable ASCII (valid UTF-8 for a text frame, §5.6) that differs from the previous one
 * of the same connection, so an echo of a stale or another connection's message does not compare equal. */
static void send_next(struct connection *c) {
    uint64_t seed = (uint64_t)c->id * 0x9E3779B97F4A7C15ULL + ++c->sequence * 0xBF58476D1CE4E5B9ULL;
    for (size_t i = 0; i < options.size; i++) {
        seed ^= seed >> 31;
        seed *= 0x94D049BB133111EBULL;
        c->expected[i] = (unsigned char)(' ' + (seed >> 40) % 95);
    }
    if (!queue_frame(c, 0x1, c->expected, options.size)) return;
    c->awaiting_echo = true;
    c->in_message = false;
    c->matched = 0;
    c->sent_at = now_seconds();
    outstanding++;
    messages_sent++;
    flush(c);
}

/* --rate: connections whose echo came, waiting in turn for their slot (a ring: at most one entry each). */
static struct connection **waiting;
static int waiting_head, waiting_count;
static double next_slot;

static void wait_for_slot(struct connection *c) {
    waiting[(waiting_head + waiting_count++) % options.clients] = c;
}

/* Sends to waiting connections while their slots have come. A slot that found nobody waiting (the server was
 * slower than the rate) is not made up for by more than a millisecond's burst. */
static void send_due(void) {
    double now = now_seconds();
    while (waiting_count > 0 && !stopping && now >= next_slot) {
        struct connection *c = waiting[waiting_head];
        waiting_head = (waiting_head + 1) % options.clients;
        waiting_count--;
        if (!c->open) continue;
        send_next(c);
        next_slot = (next_slot > now - 0.001 ? next_slot : now - 0.001) + 1.0 / options.rate;
        now = now_seconds();
    }
}

static void echo_complete(struct connection *c) {
    c->awaiting_echo = c->in_message = false;
    outstanding--;
    messages_received++;
    record_latency((now_seconds() - c->sent_at) * 1e6);
    if (stopping) return;
    if (options.rate > 0) wait_for_slot(c);
    else send_next(c);
}

/* One server frame from c->in (RFC 6455 §5.2): returns its length once whole, 0 while incomplete, -1 after
 * failing the connection. */
static long take_frame(struct connection *c) {
    const unsigned char *b = c->in;
    if (c->in_length < 2) return 0;
    int fin = b[0] & 0x80, reserved = b[0] & 0x70, opcode = b[0] & 0x0F, masked = b[1] & 0x80;
    size_t header = 2;
    uint64_t length = b[1] & 0x7F;
    if (length == 126) {
        if (c->in_length < 4) return 0;
        length = (uint64_t)b[2] << 8 | b[3];
        header = 4;
    } else if (length == 127) {
        if (c->in_length < 10) return 0;
        length = 0;
        for (int i = 2; i < 10; i++) length = length << 8 | b[i];
        header = 10;
    }
    /* No extension was negotiated, so RSV bits must be 0 (§5.2); a server never masks (§5.1). */
    if (reserved) return fail(c, "reserved bits set in a frame (no extension was negotiated)"), -1;
    if (masked) return fail(c, "masked frame from the server (RFC 6455 5.1)"), -1;
    if ((opcode & 0x8) && (length > 125 || !fin)) return fail(c, "control frame too long or fragmented"), -1;
    if (length > IN_CAPACITY - header)
        return fail(c, "frame of %llu bytes, more than was sent", (unsigned long long)length), -1;
    if (c->in_length < header + length) return 0;
    const unsigned char *payload = b + header;
    switch (opcode) {
    case 0x1: /* text: the start of the echo */
    case 0x0: /* continuation of it */
        if (opcode == 0x1 && (c->in_message || !c->awaiting_echo))
            return fail(c, c->in_message ? "new message inside a fragmented one" : "message nobody asked for"), -1;
        if (opcode == 0x0 && !c->in_message) return fail(c, "continuation frame outside a message"), -1;
        c->in_message = true;
        if (c->matched + length > options.size)
            return fail(c, "echo longer than the %zu bytes sent", options.size), -1;
        for (size_t i = 0; i < length; i++)
            if (payload[i] != c->expected[c->matched + i])
                return fail(c, "echo differs from what was sent at byte %zu", c->matched + i), -1;
        c->matched += length;
        if (fin) {
            if (c->matched != options.size)
                return fail(c, "echo of %zu bytes, %zu were sent", c->matched, options.size), -1;
            echo_complete(c);
        }
        break;
    case 0x2:
        return fail(c, "binary frame in answer to a text message"), -1;
    case 0x8: {
        int code = length >= 2 ? payload[0] << 8 | payload[1] : 1005;
        if (!c->closing) return fail(c, "server closed the connection with %d", code), -1;
        close(c->fd);
        c->open = false;
        open_count--;
        return -1;
    }
    case 0x9: /* a ping is answered with a pong carrying its payload (§5.5.2) */
        if (queue_frame(c, 0xA, payload, (size_t)length)) flush(c);
        break;
    case 0xA:
        break;
    default:
        return fail(c, "reserved opcode 0x%x", opcode), -1;
    }
    return (long)(header + length);
}

static void on_readable(struct connection *c) {
    ssize_t n = recv(c->fd, c->in + c->in_length, IN_CAPACITY - c->in_length, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
        if (c->closing) {
            close(c->fd);
            c->open = false;
            open_count--;
        } else {
            fail(c, n == 0 ? "server closed the TCP connection" : "recv: %s", strerror(errno));
        }
        return;
    }
    c->in_length += (size_t)n;
    long frame;
    while (c->open && (frame = take_frame(c)) > 0) {
        memmove(c->in, c->in + frame, c->in_length - (size_t)frame);
        c->in_length -= (size_t)frame;
    }
}

/* ---- opening handshake (RFC 6455 §4.1), blocking, one connection at a time ---- */

static const char *header_value(const char *response, const char *name, char *value, size_t capacity) {
    size_t name_length = strlen(name);
    for (const char *line = strstr(response, "\r\n"); line && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
        const char *start = line + 2;
        if (strncasecmp(start, name, name_length) == 0 && start[name_length] == ':') {
            const char *v = start + name_length + 1;
            while (*v == ' ' || *v == '\t') v++;
            size_t length = strcspn(v, "\r");
            while (length > 0 && (v[length - 1] == ' ' || v[length - 1] == '\t')) length--;
            if (length >= capacity) length = capacity - 1;
            memcpy(value, v, length);
            value[length] = 0;
            return value;
        }
    }
    return NULL;
}

static bool open_connection(struct connection *c, const struct addrinfo *address) {
    c->fd = socket(address->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return fail(c, "socket: %s", strerror(errno)), false;
    struct timeval limit = {.tv_sec = SOCKET_TIMEOUT_SECONDS};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    int one = 1;
    /* Small frames, one outstanding: without TCP_NODELAY Nagle would hold each one back. */
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, address->ai_addr, address->ai_addrlen) != 0) {
        int e = errno;
        close(c->fd);
        return fail(c, "connect: %s", strerror(e)), false;
    }
    c->open = true;
    open_count++;

    unsigned char nonce[16];
    char key[32], request[1024];
    if (getrandom(nonce, sizeof nonce, 0) != sizeof nonce) return fail(c, "getrandom: %s", strerror(errno)), false;
    base64(nonce, sizeof nonce, key); /* §4.1: a random 16-byte value, base64-encoded */
    int length = snprintf(request, sizeof request,
                          "GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                          options.path, options.host, options.port, key);
    if (send(c->fd, request, (size_t)length, MSG_NOSIGNAL) != length)
        return fail(c, "sending the handshake: %s", strerror(errno)), false;

    char response[HANDSHAKE_CAPACITY + 1];
    size_t received = 0;
    char *end = NULL;
    while (!end) {
        if (received == HANDSHAKE_CAPACITY) return fail(c, "handshake response longer than 4 KB"), false;
        ssize_t n = recv(c->fd, response + received, HANDSHAKE_CAPACITY - received, 0);
        if (n <= 0) return fail(c, "handshake: %s", n == 0 ? "connection closed" : strerror(errno)), false;
        received += (size_t)n;
        response[received] = 0;
        end = strstr(response, "\r\n\r\n");
    }
    size_t header_length = (size_t)(end + 4 - response);
    /* Frames the server sent right after its response stay for the frame reader. */
    memcpy(c->in, response + header_length, received - header_length);
    c->in_length = received - header_length;
    end[2] = 0;

    /* §4.1, the client's checks of the response: 101, Upgrade, Connection, the accept value, no extension. */
    char value[256], expected[32];
    if (strncmp(response, "HTTP/1.1 101", 12) != 0)
        return fail(c, "handshake answered %.*s", (int)strcspn(response, "\r"), response), false;
    if (!header_value(response, "Upgrade", value, sizeof value) || strcasecmp(value, "websocket") != 0)
        return fail(c, "handshake response without Upgrade: websocket"), false;
    if (!header_value(response, "Connection", value, sizeof value) || !strcasestr(value, "upgrade"))
        return fail(c, "handshake response without Connection: Upgrade"), false;
    ws_accept(key, strlen(key), expected);
    if (!header_value(response, "Sec-WebSocket-Accept", value, sizeof value) || strcmp(value, expected) != 0)
        return fail(c, "wrong Sec-WebSocket-Accept"), false;
    if (header_value(response, "Sec-WebSocket-Extensions", value, sizeof value))
        return fail(c, "server chose extension %s, none was offered", value), false;

    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &event) != 0) return fail(c, "epoll: %s", strerror(errno)), false;
    return true;
}

/* Waits on the epoll set until `until` (seconds) or until `done` says so; handles reads and writes, and with
 * --rate wakes for the next slot (epoll_pwait2: a nanosecond timeout, where epoll_wait's is whole milliseconds). */
static void run_events(double until, bool (*done)(void)) {
    struct epoll_event events[256];
    while (!done()) {
        send_due();
        double now = now_seconds(), left = until - now;
        if (left <= 0) return;
        if (waiting_count > 0 && !stopping && next_slot - now < left) left = next_slot - now > 0 ? next_slot - now : 0;
        struct timespec timeout = {.tv_sec = (time_t)left, .tv_nsec = (long)((left - (double)(time_t)left) * 1e9)};
        int n = epoll_pwait2(epoll_fd, events, 256, &timeout, NULL);
        if (n < 0 && errno != EINTR) return;
        for (int i = 0; i < n; i++) {
            struct connection *c = events[i].data.ptr;
            if (c->open && (events[i].events & EPOLLOUT)) flush(c);
            if (c->open && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) on_readable(c);
        }
    }
}

static bool none_open(void) { return open_count == 0; }
static bool none_outstanding(void) { return outstanding == 0; }

static void print_json_string(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

int main(int argc, char **argv) {
    options = parse_options(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    if (getrandom(&random_state, sizeof random_state, 0) != sizeof random_state || random_state == 0)
        random_state = (uint64_t)time(NULL) | 1;

    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *address;
    int resolved = getaddrinfo(options.host, options.port, &hints, &address);
    if (resolved != 0) {
        fprintf(stderr, "echo_load: %s: %s\n", options.host, gai_strerror(resolved));
        return 2;
    }
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    connections = calloc((size_t)options.clients, sizeof *connections);
    unsigned char *expected = calloc((size_t)options.clients, options.size);
    if (epoll_fd < 0 || !connections || !expected) {
        fprintf(stderr, "echo_load: out of memory or file descriptors\n");
        return 2;
    }
    int connected = 0;
    for (int i = 0; i < options.clients; i++) {
        connections[i].id = i;
        connections[i].expected = expected + (size_t)i * options.size;
        connected += open_connection(&connections[i], address);
    }
    freeaddrinfo(address);

    /* The measured run: from the first message to the last echo awaited. */
    waiting = calloc((size_t)options.clients, sizeof *waiting);
    if (!waiting) {
        fprintf(stderr, "echo_load: out of memory\n");
        return 2;
    }
    /* Timer slack (50 us by default) would bunch the --rate slots into bursts. */
    if (options.rate > 0) prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    double cpu_start = process_cpu_seconds(), start = now_seconds();
    next_slot = start;
    for (int i = 0; i < options.clients; i++) {
        if (!connections[i].open) continue;
        if (options.rate > 0) wait_for_slot(&connections[i]);
        else send_next(&connections[i]);
    }
    run_events(start + options.seconds, none_open);
    stopping = true;
    run_events(now_seconds() + DRAIN_SECONDS, none_outstanding);
    double seconds = now_seconds() - start, cpu = process_cpu_seconds() - cpu_start;
    uint64_t lost = (uint64_t)outstanding;

    /* Closing handshake (§5.5.1, §7.1.2): status 1000, then the server's close or its EOF, briefly. */
    for (int i = 0; i < options.clients; i++) {
        struct connection *c = &connections[i];
        if (!c->open) continue;
        c->closing = true;
        unsigned char status[2] = {1000 >> 8, 1000 & 0xFF};
        if (queue_frame(c, 0x8, status, sizeof status)) flush(c);
    }
    run_events(now_seconds() + CLOSE_WAIT_MS / 1000.0, none_open);
    int alive_at_end = 0;
    for (int i = 0; i < options.clients; i++) {
        if (connections[i].open) close(connections[i].fd);
        alive_at_end += connections[i].closing;
    }

    /* One thread: the generator can use at most one core, whatever its affinity allows. */
    double share = cpu / seconds;
    printf("{\"type\":\"result\",\"ok\":%s,\"generator\":\"echo_load\",\"mode\":\"echo\",\"target\":",
           error_count == 0 && lost == 0 && connected == options.clients ? "true" : "false");
    print_json_string(options.target);
    printf(",\"clients\":%d,\"connected\":%d,\"size\":%zu,\"seconds\":%.3f,\"sent\":%llu,\"received\":%llu,"
           "\"lost\":%llu,\"messages_per_second\":%.1f,"
           "\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"max\":%.1f,\"count\":%llu},"
           "\"rate\":%.1f,\"alive\":%d,\"errors\":%llu,\"generator_cpu_seconds\":%.3f,\"generator_cores\":1,"
           "\"generator_cpu_share\":%.3f,\"generator_saturated\":%s,\"error_samples\":[",
           options.clients, connected, options.size, seconds, (unsigned long long)messages_sent,
           (unsigned long long)messages_received, (unsigned long long)lost, (double)messages_received / seconds,
           latency_percentile(0.50), latency_percentile(0.90), latency_percentile(0.99), latency_max_us,
           (unsigned long long)latency_count, options.rate, alive_at_end, (unsigned long long)error_count, cpu, share,
           share >= SATURATED_SHARE ? "true" : "false");
    for (int i = 0; i < error_sample_count; i++) {
        if (i) putchar(',');
        print_json_string(error_samples[i]);
    }
    printf("]}\n");
    return error_count == 0 && lost == 0 && connected == options.clients ? 0 : 1;
}
