// asyncio tutorial: "gather returns results in the order of its arguments" — even
// when the children finish in a different order.
#include <aio/aio.hpp>
#include <fmt/core.h>

#include <chrono>
#include <string>
#include <vector>

using namespace std::chrono_literals;

aio::Coro<std::string> fetch(std::string name, std::chrono::milliseconds delay) {
    co_await aio::sleep(delay);
    fmt::print("{} finished after {} ms\n", name, delay.count());
    co_return name;
}

aio::Coro<int> amain() {
    // Variadic form: a tuple, one element per argument.
    auto [a, b, c] = co_await aio::gather(fetch("A", 60ms), fetch("B", 20ms), fetch("C", 40ms));
    fmt::print("gather(A, B, C) -> [{}, {}, {}]\n", a, b, c);

    // Range form: a vector of results, in the vector's order.
    std::vector<aio::Coro<std::string>> coros;
    coros.push_back(fetch("X", 30ms));
    coros.push_back(fetch("Y", 10ms));
    std::vector<std::string> xy = co_await aio::gather(std::move(coros));
    fmt::print("gather([X, Y]) -> [{}, {}]\n", xy[0], xy[1]);

    co_return (a == "A" && b == "B" && c == "C" && xy[0] == "X" && xy[1] == "Y") ? 0 : 1;
}

int main() { return aio::run(amain()); }
