// Everything in aiocpp's core: include this one header (like `import asyncio`).
#pragma once

#include "aio/coro.hpp"
#include "aio/debug.hpp"
#include "aio/exceptions.hpp"
#include "aio/executor.hpp"
#include "aio/future.hpp"
#include "aio/locks.hpp"
#include "aio/loop.hpp"
#include "aio/outcome.hpp"
#include "aio/queues.hpp"
#include "aio/runners.hpp"
#include "aio/sleep.hpp"
#include "aio/task.hpp"
#include "aio/taskgroups.hpp"
#include "aio/tasks.hpp"
#include "aio/timeouts.hpp"
