# Runs CMD with ARGS and fails unless it exits with EXPECT_RC and its output contains
# EXPECT_OUTPUT. ARGS separates arguments with '|'. Used for command-line behaviour tests.
string(REPLACE "|" ";" ARGS "${ARGS}")
execute_process(COMMAND ${CMD} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL EXPECT_RC)
  message(FATAL_ERROR "expected exit status ${EXPECT_RC}, got ${rc}\nstdout:\n${out}\nstderr:\n${err}")
endif()
string(FIND "${out}${err}" "${EXPECT_OUTPUT}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "output lacks '${EXPECT_OUTPUT}'\nstdout:\n${out}\nstderr:\n${err}")
endif()
# EXPECT_STDERR_EMPTY=ON: stderr must be empty (a clean terminal); EXPECT_STDERR: stderr must
# contain this text.
if(EXPECT_STDERR_EMPTY AND NOT err STREQUAL "")
  message(FATAL_ERROR "expected nothing on stderr, got:\n${err}")
endif()
if(DEFINED EXPECT_STDERR)
  string(FIND "${err}" "${EXPECT_STDERR}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "stderr lacks '${EXPECT_STDERR}'\nstderr:\n${err}")
  endif()
endif()
