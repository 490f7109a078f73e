# 7.5's Hopper GEMM (ch07_wgmma, built in chapters/ch07_cuda_from_cpp/wgmma.cmake; tests/ is
# configured before chapters/, which is fine: target names resolve at generate time).
#   ch07_wgmma_tests      CPU (label chapter): argument checks (thrown before any CUDA call),
#                         the launch arithmetic and the block → tile order. Runs everywhere.
#   ch07_wgmma_gpu_tests  GPU (label gpu): wgmma against a CPU double reference, the naive
#                         kernel and cuBLAS; skips without a device, needs an sm_90 device.
if(GNM_HAVE_CUDA AND GNM_BUILD_TESTS)
  add_executable(ch07_wgmma_tests ${CMAKE_CURRENT_LIST_DIR}/test_wgmma_args.cpp)
  target_link_libraries(ch07_wgmma_tests PRIVATE ch07_wgmma gnm_test_support)
  gnm_set_warnings(ch07_wgmma_tests)
  gtest_discover_tests(ch07_wgmma_tests TEST_PREFIX "ch07/wgmma/" DISCOVERY_MODE PRE_TEST
                       PROPERTIES LABELS chapter SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
  set_property(GLOBAL APPEND PROPERTY GNM_EXECUTABLES ch07_wgmma_tests)

  add_executable(ch07_wgmma_gpu_tests ${CMAKE_CURRENT_LIST_DIR}/test_wgmma_gpu.cu)
  target_link_libraries(ch07_wgmma_gpu_tests PRIVATE ch07_wgmma gnm_test_support)
  gnm_set_warnings(ch07_wgmma_gpu_tests)
  gtest_discover_tests(ch07_wgmma_gpu_tests TEST_PREFIX "ch07/wgmma/" DISCOVERY_MODE PRE_TEST
                       PROPERTIES LABELS gpu SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
  set_property(GLOBAL APPEND PROPERTY GNM_EXECUTABLES ch07_wgmma_gpu_tests)
endif()
