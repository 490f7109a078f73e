# The OpenCL backend (chapters 7.3–7.4), included by common/CMakeLists.txt after the `gnm`
# target exists. cmake/GnmDeps.cmake found (or did not find) OpenCL and the offline toolchain.
#
# - With OpenCL: the runtime layer (device, context, program .cpp) is built and gnm links the ICD
#   loader (OpenCL::OpenCL). Without it: stub.cpp, whose functions throw gnm::NotImplemented
#   naming the Debian packages. common.cpp and kernels.cpp are built either way.
# - The kernels/*.cl files are embedded into the library as text (embed_kernels.cmake). With
#   clang and llvm-spirv they are also compiled offline to SPIR (LLVM bitcode) and SPIR-V and
#   embedded as bytes; `spirv-val` (Debian: spirv-tools), when present, validates each SPIR-V
#   module as part of the build, so an invalid module fails the build.
set(gnm_ocl_dir "${CMAKE_CURRENT_LIST_DIR}")
set(gnm_ocl_gen "${CMAKE_CURRENT_BINARY_DIR}/gnm_opencl")
file(GLOB gnm_ocl_kernels CONFIGURE_DEPENDS "${gnm_ocl_dir}/kernels/*.cl")
# One place for the options of both the offline and the run-time build (kernels.hpp's
# kSgemmTile must equal GNM_TILE: kernels.cpp checks it at compile time).
set(gnm_ocl_tile 16)
set(gnm_ocl_options -cl-std=CL1.2 -DGNM_TILE=${gnm_ocl_tile})

target_sources(gnm PRIVATE "${gnm_ocl_dir}/common.cpp" "${gnm_ocl_dir}/kernels.cpp")
if(GNM_HAVE_OPENCL)
  target_sources(gnm PRIVATE "${gnm_ocl_dir}/device.cpp" "${gnm_ocl_dir}/context.cpp"
                             "${gnm_ocl_dir}/program.cpp")
  target_link_libraries(gnm PUBLIC OpenCL::OpenCL)
  target_compile_definitions(gnm PRIVATE GNM_HAVE_OPENCL=1)
else()
  target_sources(gnm PRIVATE "${gnm_ocl_dir}/stub.cpp")
  target_compile_definitions(gnm PRIVATE GNM_HAVE_OPENCL=0)
endif()

set(gnm_ocl_offline_outputs "")
set(gnm_ocl_offline_dir "")
if(GNM_OPENCL_CLANG AND GNM_OPENCL_LLVM_SPIRV)
  set(gnm_ocl_offline_dir "${gnm_ocl_gen}/offline")
  foreach(cl IN LISTS gnm_ocl_kernels)
    get_filename_component(name "${cl}" NAME_WE)
    set(bc "${gnm_ocl_offline_dir}/${name}.bc")
    set(spv "${gnm_ocl_offline_dir}/${name}.spv")
    # -O0 without optnone: the driver optimises anyway, and llvm-spirv 14 mistranslates some
    # loops that clang -O2 produces (spirv-val rejects the block order). SPIR-V 1.0 is what
    # OpenCL 2.1 devices must accept.
    add_custom_command(
      OUTPUT "${bc}"
      COMMAND "${CMAKE_COMMAND}" -E make_directory "${gnm_ocl_offline_dir}"
      COMMAND "${GNM_OPENCL_CLANG}" ${gnm_ocl_options} -target spir64 -O0 -Xclang
              -disable-O0-optnone -c -emit-llvm -o "${bc}" "${cl}"
      DEPENDS "${cl}"
      COMMENT "OpenCL C → SPIR: ${name}.cl"
      VERBATIM)
    set(validate "")
    if(GNM_SPIRV_VAL)
      set(validate COMMAND "${GNM_SPIRV_VAL}" --target-env opencl1.2 "${spv}")
    endif()
    add_custom_command(
      OUTPUT "${spv}"
      COMMAND "${GNM_OPENCL_LLVM_SPIRV}" --spirv-max-version=1.0 "${bc}" -o "${spv}"
      ${validate}
      DEPENDS "${bc}"
      COMMENT "SPIR → SPIR-V: ${name}.spv"
      VERBATIM)
    list(APPEND gnm_ocl_offline_outputs "${bc}" "${spv}")
  endforeach()
endif()

string(REPLACE ";" "|" gnm_ocl_kernel_arg "${gnm_ocl_kernels}")
string(REPLACE ";" " " gnm_ocl_options_text "${gnm_ocl_options}")
add_custom_command(
  OUTPUT "${gnm_ocl_gen}/gnm_opencl_embedded.inc"
  COMMAND "${CMAKE_COMMAND}" "-DOUT=${gnm_ocl_gen}/gnm_opencl_embedded.inc"
          "-DKERNELS=${gnm_ocl_kernel_arg}" "-DOFFLINE_DIR=${gnm_ocl_offline_dir}"
          "-DBUILD_OPTIONS=${gnm_ocl_options_text}" "-DTILE=${gnm_ocl_tile}"
          -P "${gnm_ocl_dir}/embed_kernels.cmake"
  DEPENDS ${gnm_ocl_kernels} ${gnm_ocl_offline_outputs} "${gnm_ocl_dir}/embed_kernels.cmake"
  COMMENT "Embedding the OpenCL kernels"
  VERBATIM)
target_sources(gnm PRIVATE "${gnm_ocl_gen}/gnm_opencl_embedded.inc")
set_source_files_properties("${gnm_ocl_dir}/kernels.cpp" PROPERTIES
                            INCLUDE_DIRECTORIES "${gnm_ocl_gen}"
                            OBJECT_DEPENDS "${gnm_ocl_gen}/gnm_opencl_embedded.inc")
