# Project-wide build flags as an INTERFACE target linked by every target we build, so
# warnings and sanitizers reach the library's own sources, tests and examples alike.
add_library(aiocpp_build_flags INTERFACE)
target_compile_options(aiocpp_build_flags INTERFACE -Wall -Wextra -Wpedantic -Wshadow
  -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  $<$<BOOL:${AIOCPP_WERROR}>:-Werror>
  # g++ 12 at -O3 reports `"literal" + std::string` as overlapping memcpy (GCC PR 105651,
  # fixed in 13): a false positive that would otherwise fail -Werror builds.
  $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>)
if(AIOCPP_SANITIZE)
  target_compile_options(aiocpp_build_flags INTERFACE -fsanitize=${AIOCPP_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(aiocpp_build_flags INTERFACE -fsanitize=${AIOCPP_SANITIZE})
endif()
