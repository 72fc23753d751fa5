/*
 * bare_echo: the floor of the echo benchmarks. A WebSocket echo server doing the least one can do: one thread, one
 * epoll set, and per readable connection one recv, every whole frame in it unmasked and sent back with one send. No
 * UTF-8 check, no limits but its buffers (a frame or request head over 32 KiB ends the connection, as does an
 * unmasked frame), no timeouts, a close frame answered by echoing it: not a server to run anything on, but what the
 * system calls of an echo cost on this machine, measured in the same run as the real servers, so that the gap
 * between two of them can be read against how far each is above what the kernel takes.
 *
 *   bare_echo --port N [--mode echo]
 *
 * Listens on 127.0.0.1:N for upgrades on any path (port 0: one the system picks), says so on stderr ("bare_echo:
 * listening on 127.0.0.1:PORT"), and runs until SIGTERM: the same interface as the bench's other peers
 * (bench/README.md), echo only. Built by bench/run.sh with gcc -O2 -Wall -Wextra -Werror;
 * tests/WsCore.Tests/Bench/BareEchoTests.cs builds it the same way and runs both load generators against it.
 * RFC sections cited are RFC 6455's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ws_accept.h"

enum {
    /* Room for a frame of up to 32 KiB (the largest the bench sends is 256 bytes) or the frames of one read. */
    IN_CAPACITY = 32768,
    OUT_CAPACITY = 2 * IN_CAPACITY,
    MAX_EVENTS = 512,
};

struct connection {
    int fd;
    bool upgraded;
    bool closing; /* a close frame was answered: the connection ends once the answer is out */
    size_t in_length;
    size_t out_length, out_offset;
    unsigned char in[IN_CAPACITY];
    unsigned char out[OUT_CAPACITY];
};

static int epoll_fd;

static void usage(const char *why) {
    fprintf(stderr, "bare_echo: %s\nusage: bare_echo --port N [--mode echo]\n", why);
    exit(2);
}

static void end(struct connection *c) {
    close(c->fd); /* also leaves the epoll set */
    free(c);
}

/* Waits for what the connection can do next: write its queued answer, or read. */
static void watch(struct connection *c, int operation) {
    struct epoll_event event = {.events = c->out_offset < c->out_length ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    epoll_ctl(epoll_fd, operation, c->fd, &event);
}

static bool append(struct connection *c, const void *bytes, size_t length) {
    if (OUT_CAPACITY - c->out_length < length) return false;
    memcpy(c->out + c->out_length, bytes, length);
    c->out_length += length;
    return true;
}

/* §4.2.1-4.2.2: once the request head is all there, the 101 with the accept value for its key. */
static bool answer_handshake(struct connection *c) {
    c->in[c->in_length] = 0;
    char *head_end = strstr((char *)c->in, "\r\n\r\n");
    if (!head_end) return c->in_length < IN_CAPACITY - 1;
    char *key = strcasestr((char *)c->in, "\r\nSec-WebSocket-Key:");
    if (!key || key > head_end) return false;
    key += strlen("\r\nSec-WebSocket-Key:");
    key += strspn(key, " \t");
    char accept[29], response[160];
    ws_accept(key, strcspn(key, " \t\r"), accept);
    int length = snprintf(response, sizeof response,
                          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: %s\r\n\r\n",
                          accept);
    size_t used = (size_t)(head_end + 4 - (char *)c->in);
    memmove(c->in, c->in + used, c->in_length - used);
    c->in_length -= used;
    c->upgraded = true;
    return append(c, response, (size_t)length);
}

/* §5.2: every whole frame received, unmasked and queued back with its opcode and FIN bit (a ping as a pong, §5.5.2;
 * a pong dropped), as many as the output buffer has room for (`room_ran_out` says when frames are left for later).
 * False when the connection must end: a frame too long for the buffer, or not masked (§5.1). */
static bool echo_frames(struct connection *c, bool *room_ran_out) {
    size_t at = 0;
    while (!c->closing && c->in_length - at >= 2) {
        unsigned char *frame = c->in + at;
        uint64_t length = frame[1] & 0x7F;
        size_t header = 2;
        if (length == 126) {
            if (c->in_length - at < 4) break;
            length = (uint64_t)frame[2] << 8 | frame[3], header = 4;
        } else if (length == 127) {
            if (c->in_length - at < 10) break;
            length = 0, header = 10;
            for (int i = 2; i < 10; i++) length = length << 8 | frame[i];
        }
        if (!(frame[1] & 0x80) || length > IN_CAPACITY - 1 - header - 4) return false;
        if (c->in_length - at < header + 4 + length) break;

        unsigned char answer[4], *mask = frame + header, *payload = frame + header + 4;
        size_t answer_header = 2;
        if (OUT_CAPACITY - c->out_length < answer_header + 2 + length) {
            *room_ran_out = true; /* the rest once what is queued is out */
            break;
        }
        for (size_t i = 0; i < length; i++) payload[i] ^= mask[i & 3];
        int opcode = frame[0] & 0x0F;
        at += header + 4 + length;
        if (opcode == 0xA) continue;
        answer[0] = (unsigned char)((frame[0] & 0x80) | (opcode == 0x9 ? 0xA : opcode));
        if (length < 126) {
            answer[1] = (unsigned char)length;
        } else {
            answer[1] = 126, answer[2] = (unsigned char)(length >> 8), answer[3] = (unsigned char)length;
            answer_header = 4;
        }
        append(c, answer, answer_header);
        append(c, payload, length);
        if (opcode == 0x8) c->closing = true; /* §5.5.1: the close frame echoed is the answer to it */
    }
    memmove(c->in, c->in + at, c->in_length - at);
    c->in_length -= at;
    return true;
}

/* Sends what is queued; false when the connection must end (an error, or the close frame's answer is out). */
static bool flush(struct connection *c) {
    while (c->out_offset < c->out_length) {
        ssize_t sent = send(c->fd, c->out + c->out_offset, c->out_length - c->out_offset, MSG_NOSIGNAL);
        if (sent < 0) return errno == EAGAIN || errno == EINTR;
        c->out_offset += (size_t)sent;
    }
    c->out_offset = c->out_length = 0;
    return !c->closing;
}

static void on_ready(struct connection *c, uint32_t events) {
    bool was_writing = c->out_offset < c->out_length;
    if ((events & EPOLLIN) && c->in_length < IN_CAPACITY - 1) {
        ssize_t received = recv(c->fd, c->in + c->in_length, IN_CAPACITY - 1 - c->in_length, 0);
        if (received == 0 || (received < 0 && errno != EAGAIN && errno != EINTR)) {
            end(c);
            return;
        }
        if (received > 0) c->in_length += (size_t)received;
    } else if ((events & (EPOLLERR | EPOLLHUP)) && !(events & (EPOLLIN | EPOLLOUT))) {
        end(c);
        return;
    }
    if (!c->upgraded && !answer_handshake(c)) {
        end(c);
        return;
    }
    for (;;) {
        bool room_ran_out = false;
        if ((c->upgraded && !echo_frames(c, &room_ran_out)) || !flush(c)) {
            end(c);
            return;
        }
        /* Frames left for lack of room are answered now that the queue is out, or when it is (EPOLLOUT). */
        if (!room_ran_out || c->out_offset < c->out_length) break;
    }
    if (was_writing != (c->out_offset < c->out_length)) watch(c, EPOLL_CTL_MOD);
}

static int parse_port(int argc, char **argv) {
    long port = -1;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc) usage("every option takes a value");
        char *rest;
        if (strcmp(argv[i], "--port") == 0) {
            port = strtol(argv[++i], &rest, 10);
            if (*rest || rest == argv[i] || port < 0 || port > 65535) usage("--port must be 0 to 65535");
        } else if (strcmp(argv[i], "--mode") == 0) {
            if (strcmp(argv[++i], "echo") != 0) usage("only --mode echo: the floor is measured for the echo");
        } else {
            usage("unknown option");
        }
    }
    if (port < 0) usage("--port is required");
    return (int)port;
}

int main(int argc, char **argv) {
    int port = parse_port(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 4096) != 0) {
        fprintf(stderr, "bare_echo: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    socklen_t address_length = sizeof address;
    getsockname(listener, (struct sockaddr *)&address, &address_length);
    fprintf(stderr, "bare_echo: listening on 127.0.0.1:%d\n", ntohs(address.sin_port)); /* --port 0 picks one */
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &event);

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epoll_fd, events, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr) {
                on_ready(events[i].data.ptr, events[i].events);
                continue;
            }
            int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) continue;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on); /* as every server measured here does */
            struct connection *c = calloc(1, sizeof *c);
            if (!c) {
                close(fd);
                continue;
            }
            c->fd = fd;
            watch(c, EPOLL_CTL_ADD);
        }
    }
}
