# Writes build_info.hpp (the git commit `authgate --version` prints) at build time, and only
# when its content changes, so a new commit recompiles main.cpp alone (gateway/CMakeLists.txt).
# -DCOMMIT=...: given by the Dockerfile's build stage, which has no .git; else `git rev-parse
# HEAD` in -DSRC, with "-dirty" when the work tree differs from it, or "unknown" without git.
if(NOT COMMIT)
  set(COMMIT unknown)
  find_program(GIT git)
  if(GIT)
    execute_process(COMMAND ${GIT} -C ${SRC} rev-parse HEAD OUTPUT_VARIABLE head
                    OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc ERROR_QUIET)
    if(rc EQUAL 0 AND head)
      set(COMMIT ${head})
      execute_process(COMMAND ${GIT} -C ${SRC} diff --quiet HEAD -- RESULT_VARIABLE dirty ERROR_QUIET)
      if(NOT dirty EQUAL 0)
        string(APPEND COMMIT -dirty)
      endif()
    endif()
  endif()
endif()
set(content "#pragma once\nnamespace authgate {\ninline constexpr const char* kGitCommit = \"${COMMIT}\";\n}\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT old STREQUAL content)
  file(WRITE ${OUT} "${content}")
endif()
