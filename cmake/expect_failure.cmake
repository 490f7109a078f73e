# cmake -DPROGRAM=p -DARGS="a;b" -DREGEX=r -P expect_failure.cmake
# Passes when PROGRAM exits with a non-zero status that is not a crash (1..125) and its combined
# output matches REGEX.
execute_process(COMMAND "${PROGRAM}" ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err TIMEOUT 60)
set(all "${out}${err}")
if(NOT rc MATCHES "^[0-9]+$" OR rc EQUAL 0 OR rc GREATER 125)
  message(FATAL_ERROR "expected a clean non-zero exit, got '${rc}' from ${PROGRAM} ${ARGS}:\n${all}")
endif()
if(NOT all MATCHES "${REGEX}")
  message(FATAL_ERROR "output of ${PROGRAM} ${ARGS} does not match '${REGEX}':\n${all}")
endif()
message(STATUS "exit ${rc}, message matches '${REGEX}'")
