// A user program built against the installed package.
#include <aio/aio.hpp>

using namespace std::chrono_literals;

aio::Coro<int> twice(int x) {
    co_await aio::sleep(1ms);
    co_return 2 * x;
}

aio::Coro<int> amain() {
    auto [a, b] = co_await aio::gather(twice(1), twice(2));
    co_return a + b == 6 ? 0 : 1;
}

int main() { return aio::run(amain()); }
