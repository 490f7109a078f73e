# The engine's C API (gnm/capi/gnm.h, src/capi/*.cpp; chapter 4.4), included by
# common/CMakeLists.txt after the `gnm` target exists. It is built twice:
#   - into the static library `gnm`, so C++ programs and the engine tests call it directly;
#   - as the shared library libgnm_c.so (target gnm_c), for C programs and Python's ctypes. It
#     exports only the GNM_C_EXPORT functions of gnm.h: its own code is compiled with hidden
#     visibility, and --exclude-libs hides every symbol of the static engine linked into it.
file(GLOB gnm_capi_sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/src/capi/*.cpp")
set_source_files_properties(${gnm_capi_sources} PROPERTIES COMPILE_DEFINITIONS
  "GNM_PROJECT_VERSION_MAJOR=${PROJECT_VERSION_MAJOR};GNM_PROJECT_VERSION_MINOR=${PROJECT_VERSION_MINOR};GNM_PROJECT_VERSION_PATCH=${PROJECT_VERSION_PATCH}")
target_sources(gnm PRIVATE ${gnm_capi_sources})

# A shared library can only contain position-independent code, and Debian's default (-fPIE,
# for executables) is not enough: the static engine must be compiled with -fPIC to be linked
# into libgnm_c.so. On x86-64 that costs nothing measurable (RIP-relative addressing).
set_target_properties(gnm PROPERTIES POSITION_INDEPENDENT_CODE ON)

add_library(gnm_c SHARED ${gnm_capi_sources})
target_include_directories(gnm_c PUBLIC "${CMAKE_CURRENT_LIST_DIR}/include")
target_link_libraries(gnm_c PRIVATE gnm)
target_link_options(gnm_c PRIVATE "LINKER:--exclude-libs,ALL")
if(NOT GNM_SANITIZE)
  # Every symbol resolved at link time (the sanitizer runtimes come from the executable instead).
  target_link_options(gnm_c PRIVATE "LINKER:--no-undefined")
endif()
set_target_properties(gnm_c PROPERTIES
  CXX_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR})
gnm_set_warnings(gnm_c)
set_property(GLOBAL APPEND PROPERTY GNM_EXECUTABLES gnm_c)
