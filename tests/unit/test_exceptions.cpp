#include "aio/exceptions.hpp"

#include <gtest/gtest.h>

#include <type_traits>

static_assert(!std::is_base_of_v<std::exception, aio::CancelledError>,
              "catch (const std::exception&) must not swallow a cancellation");
static_assert(std::is_base_of_v<aio::Error, aio::TimeoutError>);
static_assert(std::is_base_of_v<std::runtime_error, aio::Error>);

TEST(Exceptions, CatchStdExceptionDoesNotSwallowCancellation) {
    bool swallowed = false;
    try {
        try {
            throw aio::CancelledError("stop");
        } catch (const std::exception&) {
            swallowed = true;
        }
    } catch (const aio::CancelledError& e) {
        EXPECT_EQ(e.message(), "stop");
    }
    EXPECT_FALSE(swallowed);
}

TEST(Exceptions, RethrowIfCancelledInCatchAll) {
    EXPECT_THROW(
        {
            try {
                throw aio::CancelledError();
            } catch (...) {
                aio::rethrow_if_cancelled();
            }
        },
        aio::CancelledError);
    EXPECT_NO_THROW({
        try {
            throw std::runtime_error("x");
        } catch (...) {
            aio::rethrow_if_cancelled();
        }
    });
}

TEST(Exceptions, ExceptionGroupSplitAndContainsSearchNestedGroups) {
    auto inner = std::make_exception_ptr(aio::ExceptionGroup(
        "inner", {std::make_exception_ptr(std::logic_error("l")), std::make_exception_ptr(aio::TimeoutError())}));
    aio::ExceptionGroup eg("outer", {std::make_exception_ptr(std::runtime_error("r")), inner});
    EXPECT_TRUE(eg.contains<aio::TimeoutError>());
    EXPECT_TRUE(eg.contains<std::logic_error>());
    EXPECT_FALSE(eg.contains<std::bad_alloc>());
    auto [match, rest] = eg.split<aio::TimeoutError>();
    ASSERT_TRUE(match.has_value());
    ASSERT_TRUE(rest.has_value());
    EXPECT_EQ(match->exceptions().size(), 1u);  // the nested group holding the timeout
    EXPECT_EQ(rest->exceptions().size(), 2u);   // runtime_error and the nested logic_error
    EXPECT_STREQ(eg.what(), "outer (2 sub-exceptions)");
}

TEST(Exceptions, DescribeNamesTheType) {
    EXPECT_EQ(aio::describe(std::make_exception_ptr(std::runtime_error("boom"))), "std::runtime_error: boom");
    EXPECT_EQ(aio::describe(std::make_exception_ptr(aio::CancelledError("why"))), "aio::CancelledError: why");
    EXPECT_TRUE(aio::is_cancelled(std::make_exception_ptr(aio::CancelledError())));
}
