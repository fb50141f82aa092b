# Build speed: a compiler cache, a faster linker and precompiled headers.
# Included by the top-level CMakeLists.txt and by the standalone fuzz build
# (tests/fuzz/CMakeLists.txt); measured in load-tests/RESULTS.md ("CI budget").
#
# | cache variable          | default | meaning |
# | AUTHGATE_CCACHE         | ON      | compile through ccache when it is installed |
# | AUTHGATE_LINKER         | auto    | auto: mold if installed, else lld, else the default; or mold, lld, bfd, default |
# | AUTHGATE_PCH            | ON      | the tests' precompiled header (authgate_use_test_pch below) |
# | AUTHGATE_TEST_OPTIMIZE  | -O0     | the optimisation level of the test code (authgate_pch_usage below) |
include_guard(GLOBAL)

# --- compiler cache -----------------------------------------------------------
# ccache's own directory (default ~/.cache/ccache) outlives a checkout, so a fresh
# clone in another directory hits what an earlier build of the same sources made:
#   base_dir   = the source tree: absolute paths under it become relative in the hash;
#   hash_dir   = false: with -g the build directory's path would otherwise be hashed
#                (the price: a hit keeps the DW_AT_comp_dir of the build that filled it);
#   sloppiness = pch_defines,time_macros: needed to cache TUs that use a precompiled
#                header (ccache manual, "Precompiled headers"); include_file_mtime/ctime:
#                a fresh clone's headers are newer than the cache entries.
# The settings go through the environment of each compile, so the user's ccache.conf
# (size, directory) is left alone.
option(AUTHGATE_CCACHE "Compile through ccache when it is installed" ON)
get_filename_component(authgate_repo_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
if(AUTHGATE_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(AUTHGATE_CCACHE_PROGRAM ccache)
  if(AUTHGATE_CCACHE_PROGRAM)
    set(CMAKE_CXX_COMPILER_LAUNCHER
      ${CMAKE_COMMAND} -E env
        CCACHE_BASEDIR=${authgate_repo_root}
        CCACHE_NOHASHDIR=1
        CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
      ${AUTHGATE_CCACHE_PROGRAM})
    message(STATUS "authgate: compiling through ${AUTHGATE_CCACHE_PROGRAM}")
  endif()
endif()

# --- linker -------------------------------------------------------------------
# mold links the Beast-heavy test executables several times faster than GNU ld.
set(AUTHGATE_LINKER "auto" CACHE STRING "Linker: auto, mold, lld, bfd or default")
set(authgate_linker "${AUTHGATE_LINKER}")
if(authgate_linker STREQUAL "auto")
  set(authgate_linker default)
  foreach(candidate mold lld)
    find_program(authgate_ld_${candidate} ld.${candidate})
    if(authgate_ld_${candidate})
      set(authgate_linker ${candidate})
      break()
    endif()
  endforeach()
endif()
if(NOT authgate_linker STREQUAL "default")
  add_link_options(-fuse-ld=${authgate_linker})
  message(STATUS "authgate: linking with ${authgate_linker}")
endif()

# --- precompiled headers --------------------------------------------------------
# One PCH, GoogleTest/GoogleMock and the standard headers every test uses, compiled
# once per build tree and reused by every test target (REUSE_FROM). Measured per
# test translation unit: 3.5 s of CPU without it, 1.9 s with it. A PCH of Asio, Beast,
# Boost.JSON and spdlog was measured too and left out: 324 MB, 1-2 s to load into
# each translation unit, and the Beast translation units spend their time
# instantiating and optimising templates, not parsing (load-tests/RESULTS.md).
# g++ uses a PCH only when the macros it depends on are the same as when it was
# built, so every user links the owner's usage requirements (authgate_pch_usage);
# -Winvalid-pch turns a silently ignored PCH into a warning.
option(AUTHGATE_PCH "A precompiled header of GoogleTest/GoogleMock for the test targets" ON)

# The test code (test sources, harness, fuzz replay drivers; every target that goes
# through authgate_use_test_pch) compiles at -O0, whatever the build type or sanitizer:
# the gateway libraries it tests keep the tree's level (-O2 plain, -O1 ASan/TSan), and
# a sanitizer instruments -O0 code as fully as -O1. Measured per test translation unit
# (tests/integration/session_test.cpp, user CPU): plain 20.4 s at -O2 -> 9.8 s at -O0;
# ASan+UBSan 42.3 s at -O1 -> 13.0 s at -O0 (load-tests/RESULTS.md, "CI budget").
# It goes on authgate_pch_usage, so the PCH and its users agree on __OPTIMIZE__.
set(AUTHGATE_TEST_OPTIMIZE "-O0" CACHE STRING "Optimisation flag of the test code (empty: the build type's)")

# authgate_define_test_pch(<usage libraries...>): the PCH owner; call once.
function(authgate_define_test_pch)
  add_library(authgate_pch_usage INTERFACE)
  target_link_libraries(authgate_pch_usage INTERFACE ${ARGN})
  target_compile_options(authgate_pch_usage INTERFACE ${AUTHGATE_TEST_OPTIMIZE})
  if(NOT AUTHGATE_PCH)
    return()
  endif()
  file(WRITE ${CMAKE_BINARY_DIR}/authgate_test_pch.cpp "// the owner of the tests' precompiled header\n")
  add_library(authgate_test_pch OBJECT ${CMAKE_BINARY_DIR}/authgate_test_pch.cpp)
  target_link_libraries(authgate_test_pch PRIVATE authgate_pch_usage)
  target_precompile_headers(authgate_test_pch PRIVATE
    <gtest/gtest.h> <gmock/gmock.h>
    <algorithm> <chrono> <cstdint> <functional> <map> <memory> <optional> <set> <string>
    <string_view> <thread> <utility> <vector>)
endfunction()

# authgate_use_test_pch(<target>): <target> compiles with the tests' PCH.
function(authgate_use_test_pch target)
  target_link_libraries(${target} PRIVATE authgate_pch_usage)
  if(AUTHGATE_PCH)
    target_precompile_headers(${target} REUSE_FROM authgate_test_pch)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # -fpch-preprocess: ccache can then cache the users of the PCH (ccache manual).
      target_compile_options(${target} PRIVATE -fpch-preprocess -Winvalid-pch)
    endif()
  endif()
endfunction()
