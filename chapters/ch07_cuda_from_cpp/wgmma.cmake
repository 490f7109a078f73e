# 7.5 (second half): the Hopper bf16 GEMM with wgmma and TMA, as its own library ch07_wgmma.
#
# wgmma and setmaxnreg exist only in the sm_90a instruction set (an "a" target: this exact chip,
# no PTX that later GPUs could JIT), so this target — and only this target — is built for 90a;
# everything else keeps the project's default architecture. The kernels in wgmma_gemm.cu are
# guarded by __CUDA_ARCH_FEAT_SM90_ALL and the host code refuses devices other than
# compute capability 9.0.
#
# Included at the top of the chapter's CMakeLists.txt, before the chapter program exists, so it
# defines what the program needs instead of linking it:
#   GNM_CH07_WGMMA_LIBRARIES  ch07_wgmma in a CUDA build, empty otherwise. The chapter program
#                             passes it to gnm_add_chapter(... LIBRARIES
#                             ${GNM_CH07_WGMMA_LIBRARIES})
#                             and compiles sec_wgmma.cu (chapter07::run_wgmma) as one of its
#                             SOURCES; a CPU-only build drops the .cu and needs a stand-in.
# It also builds ch07_bench (Google Benchmark: wgmma vs cuBLAS bf16 at 4096 and 8192).
set(GNM_CH07_WGMMA_LIBRARIES)
if(GNM_HAVE_CUDA)
  add_library(ch07_wgmma STATIC ${CMAKE_CURRENT_LIST_DIR}/wgmma_gemm.cu)
  target_include_directories(ch07_wgmma PUBLIC ${CMAKE_CURRENT_LIST_DIR})
  target_link_libraries(ch07_wgmma PUBLIC gnm)
  set_target_properties(ch07_wgmma PROPERTIES CUDA_ARCHITECTURES 90a)
  gnm_set_warnings(ch07_wgmma)
  set(GNM_CH07_WGMMA_LIBRARIES ch07_wgmma)

  gnm_add_benchmark(ch07_bench ${CMAKE_CURRENT_LIST_DIR}/bench_wgmma.cu)
  if(TARGET ch07_bench)
    target_link_libraries(ch07_bench PRIVATE ch07_wgmma)
    set_target_properties(ch07_bench PROPERTIES CUDA_ARCHITECTURES 90a)
  endif()
endif()
