// The shell pipeline  printf 'c\nb\na\n' | sort | tr a-z A-Z  built by hand: three child
// processes with pipes (asyncio.create_subprocess_exec with stdin/stdout=PIPE), and this
// program copying each one's output into the next one's input.
#include <aio/aio.hpp>

#include <cstdio>
#include <string>
#include <vector>

// Copies `from` into `to` until end of stream, then closes `to` so the next program sees
// the end of its input.
aio::Coro<> pump(aio::StreamReader& from, aio::StreamWriter& to) {
    for (;;) {
        std::string chunk = co_await from.read(64 * 1024);
        if (chunk.empty()) break;
        to.write(chunk);
        co_await to.drain();  // back-pressure: never more than the pipe takes
    }
    to.close();
    co_await to.wait_closed();
}

aio::Coro<int> amain() {
    const aio::SubprocessOptions out{.stdout_ = aio::Redirect::pipe};
    const aio::SubprocessOptions in_out{.stdin_ = aio::Redirect::pipe, .stdout_ = aio::Redirect::pipe};
    std::vector<std::string> printf_args{"c\\nb\\na\\n"};
    std::vector<std::string> tr_args{"a-z", "A-Z"};

    aio::Process source = co_await aio::create_subprocess_exec("printf", printf_args, out);
    aio::Process sorter = co_await aio::create_subprocess_exec("sort", {}, in_out);
    aio::Process upper = co_await aio::create_subprocess_exec("tr", tr_args, in_out);

    std::string result;
    co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Coro<> {
        tg.create_task(pump(source.stdout_(), sorter.stdin_()));
        tg.create_task(pump(sorter.stdout_(), upper.stdin_()));
        // Read the last stage while the pumps run, so no pipe can fill up.
        result = co_await upper.stdout_().read();
    });

    const int printf_rc = co_await source.wait();
    const int sort_rc = co_await sorter.wait();
    const int tr_rc = co_await upper.wait();
    std::printf("%s", result.c_str());
    std::printf("exit codes: printf %d, sort %d, tr %d\n", printf_rc, sort_rc, tr_rc);
    const bool ok = result == "A\nB\nC\n" && printf_rc == 0 && sort_rc == 0 && tr_rc == 0;
    co_return ok ? 0 : 1;
}

int main() { return aio::run(amain()); }
