# gnm_add_chapter() and gnm_add_exercises(): one place that knows how chapters and exercises build.
include_guard(GLOBAL)

# Links <target> with chapter <chapter>'s exercise library: the solutions, or with
# -DGNM_LEARNER=ON the learner's own code in exercises/.
function(_gnm_link_exercises target chapter)
  if(GNM_LEARNER)
    target_link_libraries(${target} PRIVATE gnm_${chapter}_exercise)
  else()
    target_link_libraries(${target} PRIVATE gnm_${chapter}_solution)
  endif()
endfunction()

# gnm_add_chapter(<target> <main source> [SOURCES ...] [EXERCISES chNN] [LIBRARIES ...]
#                 [SMOKE_ARGS ...])
#
# Builds the chapter program <target> (e.g. ch00_hello_gpu) from its directory. .cu sources are
# dropped in a CPU-only build. EXERCISES links the chapter's exercise library: the solutions by
# default, your exercises/ code with -DGNM_LEARNER=ON. SMOKE_ARGS registers `chNN/program`, a test
# that runs the program with these arguments and expects "Verification: PASSED".
function(gnm_add_chapter target main)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "EXERCISES" "SOURCES;LIBRARIES;SMOKE_ARGS")
  set(sources ${main} ${arg_SOURCES})
  if(NOT GNM_HAVE_CUDA)
    list(FILTER sources EXCLUDE REGEX "\\.cu$")
  endif()
  add_executable(${target} ${sources})
  target_link_libraries(${target} PRIVATE gnm CLI11::CLI11 ${arg_LIBRARIES})
  gnm_set_warnings(${target})
  if(arg_EXERCISES)
    _gnm_link_exercises(${target} ${arg_EXERCISES})
  endif()
  if(arg_SMOKE_ARGS AND GNM_BUILD_TESTS)
    string(REGEX MATCH "^ch[0-9][0-9]" chapter "${target}")
    add_test(NAME ${chapter}/program COMMAND ${target} ${arg_SMOKE_ARGS})
    set_tests_properties(${chapter}/program PROPERTIES LABELS program
                         PASS_REGULAR_EXPRESSION "Verification: PASSED")
  endif()
  set_property(GLOBAL APPEND PROPERTY GNM_EXECUTABLES ${target})
endfunction()

# Registers the GoogleTest cases of <exe> as `<chapter>/<label>/<Suite.Case>` with <labels>.
# Repeat keys for list properties: a list value would silently drop the next property.
function(_gnm_discover exe prefix will_fail)
  set(label_args)
  foreach(l IN LISTS ARGN)
    list(APPEND label_args LABELS ${l})
  endforeach()
  set(extra)
  if(will_fail)
    set(extra WILL_FAIL TRUE)
  endif()
  gtest_discover_tests(${exe} TEST_PREFIX "${prefix}" DISCOVERY_MODE PRE_TEST
                       PROPERTIES ${label_args} ${extra}
                       SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endfunction()

# gnm_add_exercises(chNN SOURCES <files> TESTS <files> [GPU_TESTS <files>])
#
# SOURCES are file names in solutions/chNN (the reference, with // BEGIN SOLUTION spans); the same
# names exist in exercises/chNN (generated stubs that the learner edits). Public headers live in
# exercises/chNN and are shared by every build. TESTS and GPU_TESTS are in tests/chNN. One test
# source, three builds:
#   chNN/solution/…   linked with solutions/        label solution   (must pass)
#   chNN/stubcheck/…  linked with pristine stubs    label stubcheck  (WILL_FAIL: no vacuous test)
#   chNN/exercise/…   linked with exercises/        label exercise   (the learner's; not in CI)
# The pristine stubs are generated into the build tree by scripts/make_exercises.py, so stubcheck
# is right even while a learner edits exercises/. GPU_TESTS also carry the label gpu.
# EMULATED_TESTS are CPU tests too, built like TESTS, that compile a build's own kernel text
# (*_kernels.cuh) with g++ against tests/emu/cuda_host_emulator.hpp: each build finds its own
# variant's .cuh first on the include path (solutions/, the pristine stubs, or exercises/).
function(gnm_add_exercises chapter)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;TESTS;GPU_TESTS;EMULATED_TESTS")
  set(sources ${arg_SOURCES})
  set(gpu_tests ${arg_GPU_TESTS})
  if(NOT GNM_HAVE_CUDA)
    list(FILTER sources EXCLUDE REGEX "\\.cu$")
    set(gpu_tests)
  endif()
  set(solution_dir "${PROJECT_SOURCE_DIR}/solutions/${chapter}")
  set(exercise_dir "${PROJECT_SOURCE_DIR}/exercises/${chapter}")
  set(stub_dir "${CMAKE_CURRENT_BINARY_DIR}/stubs/${chapter}")

  set(solution_files)
  set(stub_files)
  set(exercise_files)
  foreach(src IN LISTS sources)
    list(APPEND solution_files "${solution_dir}/${src}")
    list(APPEND stub_files "${stub_dir}/${src}")
    list(APPEND exercise_files "${exercise_dir}/${src}")
  endforeach()
  set(script "${PROJECT_SOURCE_DIR}/scripts/make_exercises.py")
  add_custom_command(
    OUTPUT ${stub_files}
    COMMAND ${Python3_EXECUTABLE} ${script} --chapter ${chapter} --out "${stub_dir}"
    DEPENDS ${script} ${solution_files}
    COMMENT "Generating the pristine ${chapter} exercise stubs for the stub check"
    VERBATIM)

  foreach(variant solution stub exercise)
    set(lib gnm_${chapter}_${variant})
    add_library(${lib} STATIC ${${variant}_files})
    target_include_directories(${lib} PUBLIC "${exercise_dir}")
    target_link_libraries(${lib} PUBLIC gnm)
    gnm_set_warnings(${lib})
    if(NOT variant STREQUAL "solution")
      # A stub leaves parameters and helpers unused by design.
      target_compile_options(${lib} PRIVATE
        "$<$<COMPILE_LANGUAGE:CXX>:-Wno-unused-parameter;-Wno-unused-variable;-Wno-unused-function;-Wno-unused-but-set-variable>"
        "$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wno-unused-parameter,-Wno-unused-variable,-Wno-unused-function>")
    endif()
  endforeach()

  if(NOT GNM_BUILD_TESTS)
    return()
  endif()
  set(test_dir "${PROJECT_SOURCE_DIR}/tests/${chapter}")
  list(TRANSFORM arg_TESTS PREPEND "${test_dir}/")
  list(TRANSFORM gpu_tests PREPEND "${test_dir}/")
  set(emulated_tests ${arg_EMULATED_TESTS})
  list(TRANSFORM emulated_tests PREPEND "${test_dir}/")
  list(APPEND arg_TESTS ${emulated_tests})
  if(emulated_tests)
    # Kernel text compiled by g++: `#pragma unroll` is nvcc's, and no FMA contraction, which the
    # GPU's _rn intrinsics forbid (see cuda_host_emulator.hpp).
    set_source_files_properties(${emulated_tests} PROPERTIES COMPILE_OPTIONS
                                "-Wno-unknown-pragmas;-ffp-contract=off")
  endif()
  set(kernel_dir_solution "${solution_dir}")
  set(kernel_dir_stub "${stub_dir}")
  set(kernel_dir_exercise "${exercise_dir}")
  foreach(variant solution stub exercise)
    set(label ${variant})
    set(will_fail FALSE)
    if(variant STREQUAL "stub")
      set(label stubcheck)
      set(will_fail TRUE)
    endif()
    foreach(kind tests gpu_tests)
      if(kind STREQUAL "tests")
        set(files ${arg_TESTS})
        set(labels ${label})
      else()
        set(files ${gpu_tests})
        set(labels ${label} gpu)
      endif()
      if(NOT files)
        continue()
      endif()
      set(exe ${chapter}_${kind}_${variant})
      add_executable(${exe} ${files})
      target_link_libraries(${exe} PRIVATE gnm_${chapter}_${variant} gnm_test_support)
      gnm_set_warnings(${exe})
      if(kind STREQUAL "tests" AND emulated_tests)
        target_include_directories(${exe} BEFORE PRIVATE "${kernel_dir_${variant}}"
                                   "${PROJECT_SOURCE_DIR}/tests/emu")
        if(NOT variant STREQUAL "solution")
          # A stub kernel (and a half-done one) leaves its parameters unused.
          target_compile_options(${exe} PRIVATE -Wno-unused-parameter)
        endif()
      endif()
      _gnm_discover(${exe} "${chapter}/${label}/" ${will_fail} ${labels})
      set_property(GLOBAL APPEND PROPERTY GNM_EXECUTABLES ${exe})
    endforeach()
  endforeach()
endfunction()

# gnm_add_cli_test(<program> <name> <regex> <args...>)
#
# Registers `chNN/cli/<name>`: runs <program> with <args> and passes when it exits non-zero AND its
# output matches <regex> — bad input must give one clear message, never a crash or a silent zero.
function(gnm_add_cli_test program name regex)
  if(NOT GNM_BUILD_TESTS)
    return()
  endif()
  string(REGEX MATCH "^ch[0-9][0-9]" chapter "${program}")
  add_test(NAME ${chapter}/cli/${name}
           COMMAND ${CMAKE_COMMAND} "-DPROGRAM=$<TARGET_FILE:${program}>" "-DARGS=${ARGN}"
                   "-DREGEX=${regex}" -P "${PROJECT_SOURCE_DIR}/cmake/expect_failure.cmake")
  set_tests_properties(${chapter}/cli/${name} PROPERTIES LABELS program)
endfunction()

# gnm_add_benchmark(<target> <sources...> [EXERCISES chNN])
#
# A Google Benchmark program of a chapter (not a test: tests never assert on time). Built only
# when Google Benchmark is found; EXERCISES links the chapter's solutions (or the learner's code).
function(gnm_add_benchmark target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "EXERCISES" "")
  if(NOT GNM_HAVE_BENCHMARK)
    return()
  endif()
  set(sources ${arg_UNPARSED_ARGUMENTS})
  if(NOT GNM_HAVE_CUDA)
    list(FILTER sources EXCLUDE REGEX "\\.cu$")
  endif()
  add_executable(${target} ${sources})
  target_link_libraries(${target} PRIVATE gnm benchmark::benchmark)
  gnm_set_warnings(${target})
  if(arg_EXERCISES)
    _gnm_link_exercises(${target} ${arg_EXERCISES})
  endif()
  set_property(GLOBAL APPEND PROPERTY GNM_EXECUTABLES ${target})
endfunction()
