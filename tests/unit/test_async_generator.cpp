#include "aio/async_generator.hpp"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "test_loop.hpp"

using namespace std::chrono_literals;

namespace {

using Log = std::vector<std::string>;

aio::AsyncGenerator<int> count_up(int n, std::chrono::milliseconds step) {
    for (int i = 0; i < n; ++i) {
        if (step > 0ms) co_await aio::sleep(step);
        co_yield i;
    }
}

aio::AsyncGenerator<int> sync_count(int n) {
    for (int i = 0; i < n; ++i) co_yield i;
}

// Sets a flag when destroyed: proves which synchronous destructors ran.
struct Guard {
    bool* flag;
    explicit Guard(bool* f) : flag(f) {}
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() { *flag = true; }
};

// The documented idiom: catch GeneratorExit, note it, await the cleanup after the try.
aio::AsyncGenerator<int> with_async_cleanup(int n, Log& log) {
    bool closing = false;
    try {
        for (int i = 0; i < n; ++i) {
            log.push_back("yield " + std::to_string(i));
            co_yield i;
        }
    } catch (const aio::GeneratorExit&) {
        log.push_back("GeneratorExit");
        closing = true;
    }
    co_await aio::sleep(5ms);  // async cleanup (closing a cursor, returning a connection)
    log.push_back(closing ? "cleanup after close" : "cleanup at end");
}

aio::AsyncGenerator<int> ignores_generator_exit(Log& log) {
    for (int i = 0; i < 3; ++i) {
        try {
            co_yield i;
        } catch (const aio::GeneratorExit&) {
            log.push_back("ignored at " + std::to_string(i));
        }
    }
}

aio::AsyncGenerator<int> suspended_forever_gen(bool* destroyed, bool* after_yield) {
    Guard g(destroyed);
    co_yield 1;
    co_await aio::sleep(1ms);  // never reached: destruction runs no awaits
    *after_yield = true;
}

aio::Coro<int> double_later(int x) {
    co_await aio::sleep(1ms);
    co_return 2 * x;
}

aio::AsyncGenerator<int> awaits_a_coro() {
    for (int i = 1; i <= 3; ++i) {
        int v = co_await double_later(i);
        co_yield v;
    }
}

aio::AsyncGenerator<int> fails_after_one() {
    co_yield 1;
    co_await aio::sleep(1ms);
    throw std::runtime_error("boom");
}

struct Counted {
    int copies = 0;
    int moves = 0;
    int id = 0;
    explicit Counted(int i) : id(i) {}
    Counted(const Counted& o) : copies(o.copies + 1), moves(o.moves), id(o.id) {}
    Counted(Counted&& o) noexcept : copies(o.copies), moves(o.moves + 1), id(o.id) { o.id = -1; }
    Counted& operator=(const Counted&) = delete;
    Counted& operator=(Counted&&) = delete;
    ~Counted() = default;
};

}  // namespace

AIO_TEST(AsyncGenerator, YieldsValuesInOrderThenNulloptForever) {
    auto gen = count_up(4, 1ms);
    std::vector<int> got;
    while (auto x = co_await gen.next()) got.push_back(*x);
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(loop.elapsed(), 4ms);
    // Python raises StopAsyncIteration on every further __anext__(); here: nullopt.
    EXPECT_FALSE(co_await gen.next());
    EXPECT_FALSE(co_await gen.next());
}

AIO_TEST(AsyncGenerator, BodyIsLazy) {
    bool ran = false;
    auto make = [&ran]() -> aio::AsyncGenerator<int> {
        ran = true;
        co_yield 1;
    };
    auto gen = make();
    EXPECT_FALSE(ran);
    auto x = co_await gen.next();
    EXPECT_TRUE(ran);
    CO_ASSERT_TRUE(x);
    EXPECT_EQ(*x, 1);
    EXPECT_FALSE(co_await gen.next());
}

AIO_TEST(AsyncGenerator, SynchronousYieldsNeverReturnToTheLoop) {
    int ticks = 0;
    bool stop = false;
    auto other = aio::create_task([&]() -> aio::Coro<> {
        while (!stop) {
            ++ticks;
            co_await aio::sleep(0ms);
        }
    });
    auto gen = sync_count(1000);
    int n = 0;
    while (auto x = co_await gen.next()) {
        EXPECT_EQ(*x, n);
        EXPECT_EQ(ticks, 0) << "the loop ran another task between two values";
        ++n;
    }
    EXPECT_EQ(n, 1000);
    EXPECT_EQ(ticks, 0);
    co_await aio::sleep(0ms);
    EXPECT_EQ(ticks, 1);  // the first time this task yielded, the other one ran
    stop = true;
    co_await other;
}

AIO_TEST(AsyncGenerator, AwaitsInsideRunInTheConsumersTask) {
    // Raw task pointers: a task holding a handle to itself in its result would never be freed.
    std::vector<aio::detail::TaskBase*> seen;
    auto make = [&seen]() -> aio::AsyncGenerator<int> {
        seen.push_back(aio::current_task().state());
        co_await aio::sleep(1ms);
        seen.push_back(aio::current_task().state());
        co_yield 1;
        co_await aio::sleep(1ms);
        seen.push_back(aio::current_task().state());
    };
    auto consumer = aio::create_task([&]() -> aio::Coro<aio::detail::TaskBase*> {
        auto gen = make();
        int n = 0;
        while (auto x = co_await gen.next()) n += *x;
        EXPECT_EQ(n, 1);
        co_return aio::current_task().state();
    });
    aio::detail::TaskBase* me = co_await consumer;
    EXPECT_EQ(me, consumer.state());
    EXPECT_EQ(seen, (std::vector<aio::detail::TaskBase*>{me, me, me}));
    EXPECT_NE(aio::current_task().state(), me);
}

namespace {
aio::Coro<int> consume_all(aio::AsyncGenerator<int> gen) {
    int n = 0;
    while (auto x = co_await gen.next()) n += *x;
    co_return n;
}
}  // namespace

AIO_TEST(AsyncGenerator, StackWalkGoesFromGeneratorToConsumer) {
    auto consumer = aio::create_task(consume_all(count_up(1, 1h)));
    co_await aio::sleep(0ms);  // the consumer is now parked on the generator's sleep
    auto stack = consumer.get_stack();
    CO_ASSERT_EQ(stack.size(), 2u);
    EXPECT_NE(stack[0].find("count_up"), std::string::npos) << stack[0];
    EXPECT_NE(stack[1].find("consume_all"), std::string::npos) << stack[1];
    consumer.cancel();
    EXPECT_THROW(co_await consumer, aio::CancelledError);
}

AIO_TEST(AsyncGenerator, GeneratorMayAwaitCoroutines) {
    auto gen = awaits_a_coro();
    std::vector<int> got;
    while (auto x = co_await gen.next()) got.push_back(*x);
    EXPECT_EQ(got, (std::vector<int>{2, 4, 6}));
    EXPECT_EQ(loop.elapsed(), 3ms);
}

AIO_TEST(AsyncGenerator, ExceptionPropagatesFromNextOnceThenNullopt) {
    auto gen = fails_after_one();
    auto first = co_await gen.next();
    CO_ASSERT_TRUE(first);
    EXPECT_EQ(*first, 1);
    try {
        (void)co_await gen.next();
        ADD_FAILURE() << "expected the generator's exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "boom");
    }
    EXPECT_FALSE(co_await gen.next());
    EXPECT_FALSE(co_await gen.next());
    co_await gen.aclose();  // finished: a no-op
}

AIO_TEST(AsyncGenerator, CancellingTheConsumerRaisesInsideTheGenerator) {
    Log log;
    bool guard_ran = false;
    auto make = [&]() -> aio::AsyncGenerator<int> {
        Guard g(&guard_ran);
        co_yield 0;
        try {
            co_await aio::sleep(1h);
            log.push_back("slept");
        } catch (const aio::CancelledError& e) {
            log.push_back("cancelled in generator: " + e.message());
            throw;
        }
        co_yield 1;
    };
    auto consumer = aio::create_task([&]() -> aio::Coro<> {
        auto gen = make();
        while (auto x = co_await gen.next()) log.push_back("got " + std::to_string(*x));
        log.push_back("loop ended");  // never: the cancellation escapes next()
    });
    co_await aio::sleep(1ms);
    EXPECT_TRUE(consumer.cancel("stop"));
    EXPECT_THROW(co_await consumer, aio::CancelledError);
    EXPECT_TRUE(consumer.cancelled());
    EXPECT_EQ(log, (Log{"got 0", "cancelled in generator: stop"}));
    EXPECT_TRUE(guard_ran);
    EXPECT_EQ(loop.elapsed(), 1ms);
}

AIO_TEST(AsyncGenerator, GeneratorMayAwaitCleanupAfterCatchingCancellation) {
    Log log;
    auto make = [&]() -> aio::AsyncGenerator<int> {
        bool cancelled = false;
        try {
            co_await aio::sleep(1h);
        } catch (const aio::CancelledError&) {
            cancelled = true;
        }
        co_await aio::sleep(3ms);  // async cleanup: the cancellation was delivered once
        log.push_back(cancelled ? "cleaned up after cancel" : "no cancel");
        if (cancelled) throw aio::CancelledError();
        co_yield 1;
    };
    auto consumer = aio::create_task([&]() -> aio::Coro<> {
        auto gen = make();
        while (auto x = co_await gen.next()) {
        }
    });
    co_await aio::sleep(1ms);
    consumer.cancel();
    EXPECT_THROW(co_await consumer, aio::CancelledError);
    EXPECT_EQ(log, (Log{"cleaned up after cancel"}));
    EXPECT_EQ(loop.elapsed(), 4ms);
}

AIO_TEST(AsyncGenerator, AcloseRaisesGeneratorExitAtTheYieldAndAwaitsCleanup) {
    Log log;
    auto gen = with_async_cleanup(10, log);
    auto a = co_await gen.next();
    auto b = co_await gen.next();
    CO_ASSERT_TRUE(a && b);
    EXPECT_EQ(*a + *b, 1);
    const auto before = loop.elapsed();
    co_await gen.aclose();
    EXPECT_EQ(log, (Log{"yield 0", "yield 1", "GeneratorExit", "cleanup after close"}));
    EXPECT_EQ(loop.elapsed() - before, 5ms);  // aclose() waited for the async cleanup
    EXPECT_FALSE(co_await gen.next());
    co_await gen.aclose();  // closed: a no-op
    EXPECT_EQ(log.size(), 4u);
}

AIO_TEST(AsyncGenerator, GeneratorExitEscapingTheBodyIsANormalClose) {
    bool guard_ran = false;
    auto make = [&]() -> aio::AsyncGenerator<int> {
        Guard g(&guard_ran);
        co_yield 1;
        co_yield 2;
    };
    auto gen = make();
    EXPECT_TRUE(co_await gen.next());
    co_await gen.aclose();
    EXPECT_TRUE(guard_ran);
    EXPECT_FALSE(co_await gen.next());
}

AIO_TEST(AsyncGenerator, AcloseOnUnstartedOrFinishedGeneratorIsANoOp) {
    Log log;
    {
        auto gen = with_async_cleanup(2, log);
        co_await gen.aclose();
        EXPECT_TRUE(log.empty());           // the body never ran
        EXPECT_FALSE(co_await gen.next());  // and never will
        EXPECT_TRUE(log.empty());
    }
    {
        auto gen = with_async_cleanup(1, log);
        while (auto x = co_await gen.next()) {
        }
        EXPECT_EQ(log, (Log{"yield 0", "cleanup at end"}));
        const auto before = loop.elapsed();
        co_await gen.aclose();
        EXPECT_EQ(log.size(), 2u);
        EXPECT_EQ(loop.elapsed(), before);
    }
    {
        aio::AsyncGenerator<int> empty;
        co_await empty.aclose();  // nothing to close
        EXPECT_THROW((void)co_await empty.next(), aio::RuntimeError);
    }
    EXPECT_TRUE(loop.take_reports().empty());
}

AIO_TEST(AsyncGenerator, IgnoringGeneratorExitRaisesRuntimeError) {
    Log log;
    auto gen = ignores_generator_exit(log);
    auto first = co_await gen.next();
    CO_ASSERT_TRUE(first);
    EXPECT_EQ(*first, 0);
    try {
        co_await gen.aclose();
        ADD_FAILURE() << "expected RuntimeError";
    } catch (const aio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "RuntimeError: async generator ignored GeneratorExit");
    }
    EXPECT_EQ(log, (Log{"ignored at 0"}));
    // As in Python, it stays suspended at the yield it made (the value 1 was dropped):
    // next() resumes it from there.
    auto next = co_await gen.next();
    CO_ASSERT_TRUE(next);
    EXPECT_EQ(*next, 2);
    EXPECT_FALSE(co_await gen.next());
}

AIO_TEST(AsyncGenerator, ExceptionFromCleanupPropagatesFromAclose) {
    auto make = []() -> aio::AsyncGenerator<int> {
        bool closing = false;
        try {
            co_yield 1;
        } catch (const aio::GeneratorExit&) {
            closing = true;
        }
        co_await aio::sleep(1ms);
        if (closing) throw std::logic_error("cleanup failed");
    };
    auto gen = make();
    EXPECT_TRUE(co_await gen.next());
    EXPECT_THROW(co_await gen.aclose(), std::logic_error);
    EXPECT_FALSE(co_await gen.next());
    co_await gen.aclose();
}

AIO_TEST(AsyncGenerator, AclosingClosesAfterAnEarlyBreak) {
    Log log;
    auto gen = with_async_cleanup(10, log);
    int sum = co_await aio::aclosing(gen, [&](aio::AsyncGenerator<int>& g) -> aio::Coro<int> {
        int s = 0;
        while (auto x = co_await g.next()) {
            s += *x;
            if (*x == 2) break;
        }
        log.push_back("body done");
        co_return s;
    });
    EXPECT_EQ(sum, 3);
    EXPECT_EQ(log, (Log{"yield 0", "yield 1", "yield 2", "body done", "GeneratorExit", "cleanup after close"}));
    EXPECT_FALSE(co_await gen.next());
}

AIO_TEST(AsyncGenerator, AclosingClosesOnErrorBeforeRaisingIt) {
    Log log;
    try {
        co_await aio::aclosing(with_async_cleanup(10, log), [&](aio::AsyncGenerator<int>& g) -> aio::Coro<> {
            auto x = co_await g.next();
            log.push_back("got " + std::to_string(x.value()));
            throw std::runtime_error("body failed");
        });
        ADD_FAILURE() << "expected the body's exception";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "body failed");
        log.push_back("caught");
    }
    EXPECT_EQ(log, (Log{"yield 0", "got 0", "GeneratorExit", "cleanup after close", "caught"}));
}

AIO_TEST(AsyncGenerator, AclosingClosesWhenCancelled) {
    Log log;
    auto t = aio::create_task([&]() -> aio::Coro<> {
        auto gen = with_async_cleanup(10, log);
        co_await aio::aclosing(gen, [&](aio::AsyncGenerator<int>& g) -> aio::Coro<> {
            while (auto x = co_await g.next()) co_await aio::sleep(1h);
        });
        log.push_back("not reached");
    });
    co_await aio::sleep(1ms);
    t.cancel();
    EXPECT_THROW(co_await t, aio::CancelledError);
    EXPECT_TRUE(t.cancelled());
    EXPECT_EQ(log, (Log{"yield 0", "GeneratorExit", "cleanup after close"}));
    EXPECT_EQ(loop.elapsed(), 6ms);  // the cleanup's 5ms sleep ran after the cancellation
}

AIO_TEST(AsyncGenerator, AclosingOnSuccessReturnsTheBodyResult) {
    Log log;
    auto gen = with_async_cleanup(3, log);
    auto body = [](aio::AsyncGenerator<int>& g) -> aio::Coro<std::vector<int>> {
        std::vector<int> all;
        while (auto x = co_await g.next()) all.push_back(*x);
        co_return all;
    };
    auto all = co_await aio::aclosing(gen, body);
    EXPECT_EQ(all, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(log.back(), "cleanup at end");  // ran to its end; aclose() had nothing to do
    EXPECT_EQ(log.size(), 4u);
}

AIO_TEST(AsyncGenerator, ConcurrentNextRaisesRuntimeError) {
    auto gen = count_up(2, 10ms);
    auto consumer = aio::create_task([&]() -> aio::Coro<int> {
        int n = 0;
        while (auto x = co_await gen.next()) ++n;
        co_return n;
    });
    co_await aio::sleep(1ms);  // the consumer is inside the generator's sleep
    try {
        (void)co_await gen.next();
        ADD_FAILURE() << "expected RuntimeError";
    } catch (const aio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "RuntimeError: anext(): asynchronous generator is already running");
    }
    try {
        co_await gen.aclose();
        ADD_FAILURE() << "expected RuntimeError";
    } catch (const aio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "RuntimeError: aclose(): asynchronous generator is already running");
    }
    EXPECT_EQ(co_await consumer, 2);  // the refused calls did not disturb the consumer
}

AIO_TEST(AsyncGenerator, NextFromInsideTheGeneratorItselfRaises) {
    aio::AsyncGenerator<int>* self = nullptr;
    auto make = [&self]() -> aio::AsyncGenerator<int> {
        bool refused = false;
        try {
            (void)co_await self->next();
        } catch (const aio::RuntimeError& e) {
            EXPECT_STREQ(e.what(), "RuntimeError: anext(): asynchronous generator is already running");
            refused = true;
        }
        if (refused) co_yield 7;
    };
    auto gen = make();
    self = &gen;
    auto x = co_await gen.next();
    CO_ASSERT_TRUE(x);
    EXPECT_EQ(*x, 7);
    EXPECT_FALSE(co_await gen.next());
}

AIO_TEST(AsyncGenerator, MoveOnlyValues) {
    auto make = []() -> aio::AsyncGenerator<std::unique_ptr<int>> {
        co_yield std::make_unique<int>(1);
        auto p = std::make_unique<int>(2);
        co_yield std::move(p);
        EXPECT_EQ(p, nullptr);  // the consumer moved it out
        co_await aio::sleep(1ms);
        co_yield std::make_unique<int>(3);
    };
    auto gen = make();
    std::vector<int> got;
    while (auto p = co_await gen.next()) got.push_back(**p);
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
    // Moving the generator handle around is fine; copying does not compile.
    static_assert(!std::is_copy_constructible_v<aio::AsyncGenerator<int>>);
    static_assert(std::is_nothrow_move_constructible_v<aio::AsyncGenerator<int>>);
}

AIO_TEST(AsyncGenerator, LvalueYieldCopiesRvalueYieldMoves) {
    Log log;
    auto make = [&log]() -> aio::AsyncGenerator<Counted> {
        Counted kept(1);
        co_yield kept;  // copied
        log.push_back("kept id after copy: " + std::to_string(kept.id));
        Counted given(2);
        co_yield std::move(given);  // moved
        log.push_back("given id after move: " + std::to_string(given.id));
    };
    auto gen = make();
    auto a = co_await gen.next();
    CO_ASSERT_TRUE(a);
    EXPECT_EQ(a->id, 1);
    EXPECT_EQ(a->copies, 1);
    EXPECT_EQ(a->moves, 0);
    auto b = co_await gen.next();
    CO_ASSERT_TRUE(b);
    EXPECT_EQ(b->id, 2);
    EXPECT_EQ(b->copies, 0);
    EXPECT_EQ(b->moves, 1);
    EXPECT_FALSE(co_await gen.next());
    EXPECT_EQ(log, (Log{"kept id after copy: 1", "given id after move: -1"}));
}

AIO_TEST(AsyncGenerator, YieldsValuesConvertibleToT) {
    auto make = []() -> aio::AsyncGenerator<std::string> {
        co_yield "literal";
        const char* p = "pointer";
        co_yield p;
        co_yield std::string(40, 'x');  // long enough to live on the heap
    };
    auto gen = make();
    std::vector<std::string> got;
    while (auto s = co_await gen.next()) got.push_back(std::move(*s));
    EXPECT_EQ(got, (std::vector<std::string>{"literal", "pointer", std::string(40, 'x')}));
}

AIO_TEST(AsyncGenerator, DestroyingASuspendedGeneratorRunsOnlyDestructorsAndIsReported) {
    bool destroyed = false;
    bool after_yield = false;
    {
        auto gen = suspended_forever_gen(&destroyed, &after_yield);
        auto x = co_await gen.next();
        CO_ASSERT_TRUE(x);
        EXPECT_FALSE(destroyed);
    }
    EXPECT_TRUE(destroyed);
    EXPECT_FALSE(after_yield);
    auto reports = loop.take_reports();
    if (aio::detail::debug_enabled()) {
        CO_ASSERT_EQ(reports.size(), 1u);
        EXPECT_EQ(reports[0].message, "async generator was destroyed without aclose()");
        EXPECT_NE(reports[0].where.find("suspended_forever_gen"), std::string::npos) << reports[0].where;
        EXPECT_NE(reports[0].where.find("test_async_generator.cpp:"), std::string::npos) << reports[0].where;
    } else {
        EXPECT_TRUE(reports.empty());
    }
}

AIO_TEST(AsyncGenerator, DestroyingUnstartedFinishedOrClosedGeneratorsIsNotReported) {
    bool destroyed = false;
    bool after_yield = false;
    { auto unstarted = suspended_forever_gen(&destroyed, &after_yield); }
    EXPECT_FALSE(destroyed);  // the body never ran: its locals were never constructed
    {
        auto finished = sync_count(2);
        while (auto x = co_await finished.next()) {
        }
    }
    {
        auto closed = suspended_forever_gen(&destroyed, &after_yield);
        (void)co_await closed.next();
        co_await closed.aclose();
        EXPECT_TRUE(destroyed);
    }
    EXPECT_FALSE(after_yield);
    EXPECT_TRUE(loop.take_reports().empty());
}

AIO_TEST(AsyncGenerator, MoveAssignmentKeepsTheFrame) {
    auto a = sync_count(3);
    EXPECT_EQ(*(co_await a.next()), 0);
    aio::AsyncGenerator<int> b;
    EXPECT_FALSE(b);
    b = std::move(a);
    EXPECT_FALSE(a);
    EXPECT_TRUE(b);
    EXPECT_EQ(*(co_await b.next()), 1);
    EXPECT_EQ(*(co_await b.next()), 2);
    EXPECT_FALSE(co_await b.next());
}

namespace {
std::uintptr_t g_first_frame = 0;
std::uintptr_t g_last_frame = 0;

[[gnu::noinline]] std::uintptr_t stack_address() {
    return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

aio::AsyncGenerator<long> many(long n) {
    for (long i = 0; i < n; ++i) {
        if (i == 0) g_first_frame = stack_address();
        if (i == n - 1) g_last_frame = stack_address();
        co_yield i;
    }
}
}  // namespace

AIO_TEST(AsyncGenerator, HundredThousandSynchronousYieldsDoNotGrowTheStack) {
    // One long step by design: not a slow-step report in debug mode.
    aio::get_running_loop().slow_callback_duration = std::chrono::hours(1);
    constexpr long n = 100'000;
    auto gen = many(n);
    long sum = 0;
    long count = 0;
    while (auto x = co_await gen.next()) {
        sum += *x;
        ++count;
    }
    EXPECT_EQ(count, n);
    EXPECT_EQ(sum, n * (n - 1) / 2);
    const auto diff = g_first_frame > g_last_frame ? g_first_frame - g_last_frame : g_last_frame - g_first_frame;
    EXPECT_LT(diff, 4096u) << "the stack grew by " << diff << " bytes over " << n << " yields";
}
