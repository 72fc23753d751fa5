// ws_send from several tasks at once, as on the dual-core ESP32 (the server task on one core, the application's
// counter and senders on the other): the locking rule of ws_server.h ("ws_send ... may be called from any task")
// proved over real loopback sockets. run-tests.sh runs this file under ThreadSanitizer too, where a missing lock or a
// torn shared frame buffer is a reported race even when the bytes happen to come out right.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "c_api.h"

namespace
{

constexpr int kSenders = 4;
constexpr int kMessagesPerSender = 400;
constexpr int kClients = 5;

// The payload of message `seq` from sender `sender`: a header naming both (and the target, so a unicast that reaches
// the wrong client is caught) and a body whose every byte is a function of all three, so a torn or shifted frame
// cannot pass. Lengths cross the 7-bit/16-bit payload length boundary (126) of RFC 6455 section 5.2.
std::string Payload(int sender, int seq, int target)
{
    std::string head = std::to_string(sender) + ":" + std::to_string(seq) + ":" + std::to_string(target) + ":";
    size_t body = static_cast<size_t>((seq * 37 + sender * 101) % 1500);
    std::string s = head;
    for (size_t i = 0; i < body; i++) {
        s.push_back(static_cast<char>('a' + (i + static_cast<size_t>(seq) + static_cast<size_t>(sender)) % 26));
    }
    return s;
}

// A client reading its own socket on its own thread and splitting what arrives into unmasked server frames.
class ReadingClient
{
  public:
    explicit ReadingClient(uint16_t port)
    {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a = {};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = connect(fd_, reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0;
    }
    ~ReadingClient()
    {
        stop_ = true;
        if (reader_.joinable()) {
            reader_.join();
        }
        close(fd_);
    }
    bool connected() const { return connected_; }
    bool Handshake()
    {
        std::string req = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        if (send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
            return false;
        }
        std::string head;
        char c;
        while (head.find("\r\n\r\n") == std::string::npos) {
            pollfd p = {fd_, POLLIN, 0};
            if (poll(&p, 1, 5000) <= 0 || recv(fd_, &c, 1, 0) != 1) {
                return false;
            }
            head.push_back(c);
        }
        return head.rfind("HTTP/1.1 101", 0) == 0;
    }
    // Tells the application which slot this client has: its first message is "hello:<id>".
    bool Hello(int id) { return SendText("hello:" + std::to_string(id)); }
    bool SendText(const std::string &text)
    {
        Bytes f = ClientFrame(WS_OPCODE_TEXT, B(text));
        return send(fd_, f.data(), f.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(f.size());
    }
    void StartReading()
    {
        reader_ = std::thread([this] { ReadLoop(); });
    }
    // Waits (at most 60 s, which TSan's slowdown needs) until `count` text frames have arrived or the peer closed.
    void WaitFor(size_t count)
    {
        for (int i = 0; i < 600 && frames_.load() < count && !closed_.load(); i++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        stop_ = true;
        reader_.join();
    }
    const std::vector<std::string> &texts() const { return texts_; }
    const std::vector<int> &other_opcodes() const { return other_opcodes_; }

  private:
    void ReadLoop()
    {
        std::string buf;
        char tmp[16384];
        while (!stop_) {
            pollfd p = {fd_, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) {
                continue;
            }
            ssize_t n = recv(fd_, tmp, sizeof(tmp), 0);
            if (n <= 0) {
                closed_ = true;
                return;
            }
            buf.append(tmp, static_cast<size_t>(n));
            size_t pos = 0;
            while (pos + 2 <= buf.size()) {
                const auto *h = reinterpret_cast<const uint8_t *>(buf.data() + pos);
                size_t len = h[1] & 0x7F, header = 2;
                if (len == 126) {
                    if (pos + 4 > buf.size()) {
                        break;
                    }
                    len = static_cast<size_t>(h[2] << 8 | h[3]);
                    header = 4;
                }
                if (pos + header + len > buf.size()) {
                    break;
                }
                int opcode = h[0] & 0x0F;
                if (opcode == WS_OPCODE_TEXT && (h[0] & 0xF0) == 0x80 && (h[1] & 0x80) == 0) {
                    texts_.push_back(buf.substr(pos + header, len));
                    frames_++;
                } else {
                    other_opcodes_.push_back(h[0]); // anything else: a close, a fragment, a masked frame
                }
                pos += header + len;
            }
            buf.erase(0, pos);
        }
    }

    int fd_;
    bool connected_;
    std::thread reader_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> closed_{false};
    std::atomic<size_t> frames_{0};
    std::vector<std::string> texts_;
    std::vector<int> other_opcodes_;
};

} // namespace

// Four application tasks call ws_send at once (each half broadcast, half to one client), a fifth reads ws_recv and
// a sixth polls the stats, while five clients read: every client gets every message meant for it exactly once, whole
// and, per sender, in the order sent (the command queue is FIFO and each sender's calls are sequential).
TEST(ConcurrentSend, SendersOnSeveralTasks_EveryMessageArrivesOnceWholeAndInOrder)
{
    ws_server_cfg_t cfg = {};
    cfg.port = 0;
    cfg.max_clients = kClients;
    cfg.send_queue_len = 64; // room for the senders' bursts while a reader thread is descheduled
    cfg.close_timeout_ms = 300;
    ASSERT_EQ(ws_server_init(&cfg), WS_OK);
    uint16_t port = ws_server_port();

    std::vector<std::unique_ptr<ReadingClient>> clients;
    for (int i = 0; i < kClients; i++) {
        clients.push_back(std::make_unique<ReadingClient>(port));
        ASSERT_TRUE(clients.back()->connected());
        ASSERT_TRUE(clients.back()->Handshake());
        ASSERT_TRUE(clients.back()->Hello(i));
    }
    // The slot of each client, from its hello (slots are the server's, not the order of connects).
    std::map<int, int> slot_of;
    for (int i = 0; i < kClients; i++) {
        ws_queue_item_t *item = nullptr;
        ASSERT_EQ(ws_recv(&item, 5000), WS_OK);
        std::string text(reinterpret_cast<char *>(item->payload), item->len);
        ASSERT_EQ(text.rfind("hello:", 0), 0u) << text;
        slot_of[std::stoi(text.substr(6))] = item->index;
        ws_item_free(item);
    }
    for (auto &c : clients) {
        c->StartReading();
    }

    std::atomic<bool> running{true};
    std::atomic<int> send_failures{0};
    std::atomic<uint32_t> received_while_sending{0};
    std::thread receiver([&] { // the application's receive task, while clients keep talking
        while (running) {
            ws_queue_item_t *item = nullptr;
            if (ws_recv(&item, 20) == WS_OK) {
                received_while_sending++;
                ws_item_free(item);
            }
        }
    });
    std::thread stats_reader([&] {
        while (running) {
            ws_stats_t st;
            ws_server_get_stats(&st);
            std::this_thread::yield();
        }
    });
    std::vector<std::thread> senders;
    for (int s = 0; s < kSenders; s++) {
        senders.emplace_back([&, s] {
            for (int seq = 0; seq < kMessagesPerSender; seq++) {
                int target = seq % 2 == 0 ? -1 : (seq / 2 + s) % kClients; // even: broadcast; odd: one client
                std::string p = Payload(s, seq, target);
                ws_queue_item_t item = {reinterpret_cast<uint8_t *>(p.data()), p.size(),
                                        target < 0 ? -1 : slot_of.at(target), WS_OP_TXT, 1};
                if (ws_send(&item, 10000) != WS_OK) {
                    send_failures++;
                }
                if (seq % 50 == 0) {
                    clients[static_cast<size_t>(s % kClients)]->SendText("tick"); // client traffic meanwhile
                }
            }
        });
    }
    for (auto &t : senders) {
        t.join();
    }
    EXPECT_EQ(send_failures.load(), 0);

    // What each client must receive: every broadcast, and the unicasts addressed to it.
    std::vector<size_t> expected(kClients, 0);
    for (int s = 0; s < kSenders; s++) {
        for (int seq = 0; seq < kMessagesPerSender; seq++) {
            int target = seq % 2 == 0 ? -1 : (seq / 2 + s) % kClients;
            for (int c = 0; c < kClients; c++) {
                expected[static_cast<size_t>(c)] += target < 0 || target == c ? 1 : 0;
            }
        }
    }
    for (int c = 0; c < kClients; c++) {
        clients[static_cast<size_t>(c)]->WaitFor(expected[static_cast<size_t>(c)]);
    }
    running = false;
    receiver.join();
    stats_reader.join();

    for (int c = 0; c < kClients; c++) {
        const auto &client = *clients[static_cast<size_t>(c)];
        SCOPED_TRACE("client " + std::to_string(c));
        EXPECT_TRUE(client.other_opcodes().empty()) << "first unexpected frame byte 0x" << std::hex
                                                    << (client.other_opcodes().empty() ? 0 : client.other_opcodes()[0]);
        ASSERT_EQ(client.texts().size(), expected[static_cast<size_t>(c)]);
        std::vector<int> next_seq(kSenders, 0); // per sender: the next seq this client must see
        for (const std::string &text : client.texts()) {
            int sender = std::stoi(text);
            ASSERT_GE(sender, 0);
            ASSERT_LT(sender, kSenders);
            int &seq = next_seq[static_cast<size_t>(sender)];
            // Skip the seqs not addressed to this client; the next one that is must be this message.
            while (seq < kMessagesPerSender) {
                int target = seq % 2 == 0 ? -1 : (seq / 2 + sender) % kClients;
                if (target < 0 || target == c) {
                    break;
                }
                seq++;
            }
            ASSERT_LT(seq, kMessagesPerSender);
            int target = seq % 2 == 0 ? -1 : (seq / 2 + sender) % kClients;
            ASSERT_EQ(text, Payload(sender, seq, target)) << "lost, duplicated, reordered or corrupted";
            seq++;
        }
    }
    ws_stats_t st;
    ASSERT_EQ(ws_server_get_stats(&st), WS_OK);
    EXPECT_EQ(st.slow_closed, 0u);
    EXPECT_EQ(ws_server_stop(), WS_OK);
    ws_queue_item_t *left = nullptr;
    while (ws_recv(&left, 0) == WS_OK) {
        ws_item_free(left);
    }
}
