# cmake -DCXX=c++ -DSOURCE=file.cpp -DINCLUDES="dir;dir" -DDEFINE=NAME -DREGEX=re -P compile_check.cmake
#
# Compiles SOURCE (syntax only, C++20). With DEFINE empty the compile must succeed: the positive
# twin. With -D${DEFINE} it must fail, and the compiler's output must match REGEX (the static_assert
# message that names the broken rule), so the check cannot pass for an unrelated error.
set(args -std=c++20 -fsyntax-only)
foreach(dir IN LISTS INCLUDES)
  list(APPEND args "-I${dir}")
endforeach()
if(DEFINE)
  list(APPEND args "-D${DEFINE}")
endif()
execute_process(COMMAND "${CXX}" ${args} "${SOURCE}" RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err TIMEOUT 300)
set(all "${out}${err}")
if(NOT DEFINE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "the well-typed program must compile, but:\n${all}")
  endif()
  message(STATUS "compiles, as it must")
  return()
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "${DEFINE}: compiled, but it must be rejected")
endif()
if(NOT all MATCHES "${REGEX}")
  message(FATAL_ERROR "${DEFINE}: rejected, but without the expected message '${REGEX}':\n${all}")
endif()
message(STATUS "${DEFINE}: rejected with '${REGEX}', as it must")
