# gnm_add_book(): the `book` target, which renders book/ and the engine's API docs with doxygen.
#
#   list(APPEND CMAKE_MODULE_PATH "${PROJECT_SOURCE_DIR}/cmake")
#   include(GnmBook)
#   gnm_add_book()
#
#   cmake --build build --target book      # -> build/book/html/index.html
#
# The book works offline: Debian's doxygen-awesome-css styles it and Debian's MathJax 2
# (libjs-mathjax) is copied, not linked, into html/mathjax, once (a stamp guards the 54 MB copy).
# Doxygen runs with WARN_AS_ERROR = FAIL_ON_WARNINGS: it lists every warning, then the target fails.
# `book` is not part of ALL. Without doxygen there is no `book` target; without MathJax or
# doxygen-awesome-css there is one, and it fails naming the Debian package to install.
include_guard(GLOBAL)

# The repository root, known from this file's place (cmake/), whoever calls gnm_add_book().
get_filename_component(_GNM_BOOK_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

function(gnm_add_book)
  find_package(Doxygen OPTIONAL_COMPONENTS dot)
  if(NOT DOXYGEN_FOUND)
    message(STATUS "gnm book: doxygen not found, no 'book' target (apt-get install doxygen graphviz)")
    return()
  endif()
  if(DOXYGEN_VERSION VERSION_LESS 1.9.4)
    message(STATUS "gnm book: doxygen ${DOXYGEN_VERSION} is older than 1.9.4, no 'book' target")
    return()
  endif()

  find_path(GNM_MATHJAX_DIR MathJax.js
    PATHS /usr/share/javascript/mathjax NO_DEFAULT_PATH
    DOC "MathJax 2 directory (Debian package libjs-mathjax), copied into the book's html/mathjax")
  find_path(GNM_DOXYGEN_AWESOME_DIR doxygen-awesome.css
    PATHS /usr/share/doxygen-awesome-css NO_DEFAULT_PATH
    DOC "doxygen-awesome-css directory (Debian package doxygen-awesome-css)")

  set(book_dir "${CMAKE_BINARY_DIR}/book")
  set(html_dir "${book_dir}/html")

  set(missing "")
  if(NOT GNM_MATHJAX_DIR)
    list(APPEND missing "MathJax (/usr/share/javascript/mathjax/MathJax.js): apt-get install libjs-mathjax")
  endif()
  if(NOT GNM_DOXYGEN_AWESOME_DIR)
    list(APPEND missing
      "doxygen-awesome-css (/usr/share/doxygen-awesome-css/doxygen-awesome.css): apt-get install doxygen-awesome-css")
  endif()
  if(missing)
    list(JOIN missing "; " missing_text)
    message(STATUS "gnm book: the 'book' target will fail, missing ${missing_text}")
    set(commands "")
    foreach(item IN LISTS missing)
      list(APPEND commands COMMAND "${CMAKE_COMMAND}" -E echo "gnm book: error: missing ${item}")
    endforeach()
    add_custom_target(book
      ${commands}
      COMMAND "${CMAKE_COMMAND}" -E echo "gnm book: install the Debian package(s) above, then re-run cmake"
      COMMAND "${CMAKE_COMMAND}" -E false
      VERBATIM)
    return()
  endif()

  # Values for book/Doxyfile.in. PROJECT_SOURCE_DIR is shadowed in this function only, so the
  # Doxyfile points at this repository even when a sub-project calls gnm_add_book().
  set(PROJECT_SOURCE_DIR "${_GNM_BOOK_ROOT}")
  if(TARGET Doxygen::dot)
    set(GNM_BOOK_HAVE_DOT YES)
    get_filename_component(GNM_BOOK_DOT_DIR "${DOXYGEN_DOT_EXECUTABLE}" DIRECTORY)
  else()
    set(GNM_BOOK_HAVE_DOT NO)
    set(GNM_BOOK_DOT_DIR "")
    message(STATUS "gnm book: dot (graphviz) not found, the book renders without diagrams")
  endif()
  # HTML_COLORSTYLE appeared in doxygen 1.9.5 (where doxygen-awesome-css needs it); 1.9.4 would
  # warn about an unknown tag, which fails the render.
  if(DOXYGEN_VERSION VERSION_GREATER_EQUAL 1.9.5)
    set(GNM_BOOK_HTML_COLORSTYLE "HTML_COLORSTYLE        = LIGHT")
  else()
    set(GNM_BOOK_HTML_COLORSTYLE "# HTML_COLORSTYLE: doxygen ${DOXYGEN_VERSION} has no such option")
  endif()
  configure_file("${_GNM_BOOK_ROOT}/book/Doxyfile.in" "${book_dir}/Doxyfile" @ONLY)

  # MathJax: copied once; the stamp lives inside the copy, so deleting html/ copies it again.
  set(mathjax_stamp "${html_dir}/mathjax/.gnm-mathjax-copied")
  add_custom_command(OUTPUT "${mathjax_stamp}"
    COMMAND "${CMAKE_COMMAND}" -E rm -rf "${html_dir}/mathjax"
    COMMAND "${CMAKE_COMMAND}" -E copy_directory "${GNM_MATHJAX_DIR}" "${html_dir}/mathjax"
    COMMAND "${CMAKE_COMMAND}" -E touch "${mathjax_stamp}"
    DEPENDS "${GNM_MATHJAX_DIR}/MathJax.js"
    COMMENT "Copying MathJax from ${GNM_MATHJAX_DIR} into ${html_dir}/mathjax (once)"
    VERBATIM)

  # Doxygen runs on every build of `book`: its inputs are spread over the whole tree.
  add_custom_target(book
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${book_dir}/images"
    # Measured tables come from the programs' JSON results, never typed by hand.
    COMMAND "${Python3_EXECUTABLE}" "${_GNM_BOOK_ROOT}/scripts/gen_book_results.py"
            "${_GNM_BOOK_ROOT}/book/results" "${book_dir}/generated/results.md"
    COMMAND Doxygen::doxygen "${book_dir}/Doxyfile"
    DEPENDS "${mathjax_stamp}"
    WORKING_DIRECTORY "${book_dir}"
    COMMENT "Rendering the book with doxygen ${DOXYGEN_VERSION} -> ${html_dir}/index.html"
    VERBATIM)
endfunction()
