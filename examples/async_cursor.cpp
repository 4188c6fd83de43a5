// asyncio tutorial: "async iterator" — a database cursor as an async generator. Rows come
// from the server in pages of 3 (one round trip each) and are handed out one at a time:
// `while (auto row = co_await rows.next())` is `async for row in rows`. aclosing() closes
// the cursor (an awaited round trip) even when the reader stops early.
#include <aio/aio.hpp>
#include <aio/async_generator.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;

struct Row {
    int id;
    std::string name;
};

struct Database {  // a simulated server holding 10 rows
    int round_trips = 0;
    bool cursor_open = false;

    aio::Coro<std::vector<Row>> fetch(int offset, int limit) {
        co_await aio::sleep(5ms);  // network round trip
        ++round_trips;
        std::vector<Row> page;
        for (int id = offset; id < std::min(offset + limit, 10); ++id)
            page.push_back(Row{id, fmt::format("user-{}", id)});
        co_return page;
    }
};

aio::AsyncGenerator<Row> cursor(Database& db, int page_size) {
    db.cursor_open = true;
    try {
        for (int offset = 0;; offset += page_size) {
            std::vector<Row> page = co_await db.fetch(offset, page_size);
            for (Row& row : page) co_yield std::move(row);
            if (static_cast<int>(page.size()) < page_size) break;
        }
    } catch (const aio::GeneratorExit&) {
        fmt::print("cursor closed early\n");  // no co_await in a catch block: clean up below
    }
    co_await aio::sleep(1ms);  // CLOSE cursor: awaited on every exit
    db.cursor_open = false;
}

aio::Coro<int> amain() {
    Database db;
    std::vector<int> ids;
    auto rows = cursor(db, 3);
    while (auto row = co_await rows.next()) {
        fmt::print("row {}: {}\n", row->id, row->name);
        ids.push_back(row->id);
    }
    bool ok = ids == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9} && db.round_trips == 4 && !db.cursor_open;

    // Stop after id 4: aclosing() raises GeneratorExit in the cursor and awaits its close.
    db.round_trips = 0;
    std::vector<int> first;
    co_await aio::aclosing(cursor(db, 3), [&](aio::AsyncGenerator<Row>& c) -> aio::Coro<> {
        while (auto row = co_await c.next()) {
            first.push_back(row->id);
            if (row->id == 4) break;
        }
    });
    ok = ok && first == std::vector<int>{0, 1, 2, 3, 4} && db.round_trips == 2 && !db.cursor_open;
    fmt::print("{} rows in 4 pages, early stop after {} rows in 2 pages, cursor closed: {}\n", ids.size(),
               first.size(), ok ? "yes" : "NO");
    co_return ok ? 0 : 1;
}

int main() { return aio::run(amain()); }
