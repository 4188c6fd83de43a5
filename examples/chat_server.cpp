// The tutorial chat server: every line a client sends goes to all the other clients.
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <map>

class ChatRoom {
public:
    aio::Coro<> handle(aio::StreamReader reader, aio::StreamWriter writer) {
        const int id = next_id_++;
        clients_.emplace(id, std::move(writer));
        broadcast(0, fmt::format("* client {} joined, {} online\n", id, clients_.size()));
        while (true) {
            std::string line = co_await reader.readline();
            if (line.empty()) break;  // end of stream: the client left
            broadcast(id, fmt::format("client {}: {}", id, line));
        }
        clients_.erase(id);
        broadcast(id, fmt::format("* client {} left\n", id));
    }

private:
    void broadcast(int from, const std::string& text) {
        for (auto& [id, w] : clients_) {
            if (id != from && !w.is_closing()) w.write(text);  // buffered: a slow client never blocks the room
        }
    }
    std::map<int, aio::StreamWriter> clients_;
    int next_id_ = 1;
};

aio::Coro<> client(std::uint16_t port, std::string name, std::size_t room_size) {
    auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
    const std::string everyone = fmt::format(", {} online\n", room_size);
    for (std::string line; !line.ends_with(everyone);) {  // wait until everyone is in
        line = co_await reader.readline();
        if (line.empty()) co_return;  // the server went away
    }
    writer.write("hello from " + name + "\n");
    for (std::size_t greetings = 0; greetings + 1 < room_size;) {
        std::string line = co_await reader.readline();
        if (line.empty()) co_return;
        if (line.find("hello from") == std::string::npos) continue;
        fmt::print("{} got {}", name, line);
        ++greetings;
    }
    writer.close();
    co_await writer.wait_closed();
}

aio::Coro<int> amain() {
    ChatRoom room;
    aio::Server server = co_await aio::start_server(
        [&room](aio::StreamReader r, aio::StreamWriter w) { return room.handle(std::move(r), std::move(w)); },
        "127.0.0.1", 0);
    co_await aio::gather(client(server.port(), "alice", 3), client(server.port(), "bob", 3),
                         client(server.port(), "carol", 3));
    server.close();
    co_await server.wait_closed();
    co_return 0;
}

int main() { return aio::run(amain()); }
