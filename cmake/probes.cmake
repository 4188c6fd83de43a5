# Configure-time facts about the compiler that the runtime depends on.
#
# Symmetric transfer (returning a coroutine_handle from await_suspend) is a guaranteed
# tail call with clang, but not with g++ 12 at -O0/-O1 or under sanitizers: a long chain
# of synchronously completing co_awaits then overflows the stack. Run a deep chain with
# the real flags; when it crashes, Coro transfers go through the task's trampoline.
set(_aio_probe_flags ${CMAKE_CXX_FLAGS})
if(CMAKE_BUILD_TYPE)
  string(TOUPPER "${CMAKE_BUILD_TYPE}" _aio_bt)
  string(APPEND _aio_probe_flags " ${CMAKE_CXX_FLAGS_${_aio_bt}}")
endif()
set(_aio_probe_link "")
if(AIOCPP_SANITIZE)
  string(APPEND _aio_probe_flags " -fsanitize=${AIOCPP_SANITIZE}")
  set(_aio_probe_link "-fsanitize=${AIOCPP_SANITIZE}")
endif()
try_run(_aio_tail_run _aio_tail_compile
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/probe_tail_call.cpp
  CMAKE_FLAGS "-DCMAKE_CXX_FLAGS=${_aio_probe_flags}"
  LINK_OPTIONS ${_aio_probe_link}
  CXX_STANDARD 20
  RUN_OUTPUT_VARIABLE _aio_tail_out)
if(_aio_tail_compile AND "${_aio_tail_run}" STREQUAL "0")
  set(AIOCPP_TAIL_CALL_TRANSFER 1)
else()
  set(AIOCPP_TAIL_CALL_TRANSFER 0)
endif()
message(STATUS "aiocpp: symmetric transfer is a tail call: ${AIOCPP_TAIL_CALL_TRANSFER}")
