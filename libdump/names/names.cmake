# names.cmake - generates the bug check and NTSTATUS name tables for restack_dump
#
# Included from libdump/CMakeLists.txt after restack_dump is defined. The tables come
# from Debian's mingw-w64-common headers (public domain) at build time; nothing
# generated is committed. See libdump/names/README.md.

set(RESTACK_MINGW_INCLUDE_DIR "/usr/share/mingw-w64/include" CACHE PATH
    "Directory holding mingw-w64's bugcodes.h and ntstatus.h (Debian: mingw-w64-common)")

foreach(header bugcodes.h ntstatus.h)
  if(NOT EXISTS "${RESTACK_MINGW_INCLUDE_DIR}/${header}")
    message(FATAL_ERROR
      "restack: ${RESTACK_MINGW_INCLUDE_DIR}/${header} not found. The bug check and "
      "NTSTATUS names are generated from Debian's mingw-w64-common headers: install "
      "them with `apt-get install mingw-w64-common` (or `make deps`), or point "
      "-DRESTACK_MINGW_INCLUDE_DIR at a directory that has them.")
  endif()
  # Re-run this check (rather than fail on a missing dependency) if a header goes away.
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
    "${RESTACK_MINGW_INCLUDE_DIR}/${header}")
endforeach()

set(_restack_names_dir "${CMAKE_CURRENT_BINARY_DIR}/generated/restack_names")
set(_restack_names_script "${CMAKE_CURRENT_SOURCE_DIR}/names/generate_names.cmake")

# restack_generate_names(OUTPUT INPUT CAST ENTRY_TYPE TABLE ENTRY_HEADER MIN_COUNT [SKIP_SEVERITY_BITS])
function(restack_generate_names output input cast entry_type table entry_header min_count)
  set(skip OFF)
  if("SKIP_SEVERITY_BITS" IN_LIST ARGN)
    set(skip ON)
  endif()
  add_custom_command(
    OUTPUT "${_restack_names_dir}/${output}"
    COMMAND ${CMAKE_COMMAND} -E make_directory "${_restack_names_dir}"
    COMMAND ${CMAKE_COMMAND}
      "-DINPUT=${input}" "-DCAST=${cast}" "-DOUTPUT=${_restack_names_dir}/${output}"
      "-DENTRY_TYPE=${entry_type}" "-DTABLE=${table}" "-DENTRY_HEADER=${entry_header}"
      "-DMIN_COUNT=${min_count}" "-DSKIP_SEVERITY_BITS=${skip}"
      -P "${_restack_names_script}"
    DEPENDS "${input}" "${_restack_names_script}"
    COMMENT "Generating ${output} from ${input}"
    VERBATIM)
endfunction()

restack_generate_names(bugcheck_names_mingw.h "${RESTACK_MINGW_INCLUDE_DIR}/bugcodes.h"
  ULONG BugCheckNameEntry kMingwBugCheckNames restack/dump/bugcheck_names.h 100
  SKIP_SEVERITY_BITS)
restack_generate_names(ntstatus_names_mingw.h "${RESTACK_MINGW_INCLUDE_DIR}/ntstatus.h"
  NTSTATUS NtStatusNameEntry kMingwNtStatusNames restack/dump/ntstatus.h 1000)

target_sources(restack_dump PRIVATE
  "${_restack_names_dir}/bugcheck_names_mingw.h"
  "${_restack_names_dir}/ntstatus_names_mingw.h")
target_include_directories(restack_dump PRIVATE
  "${CMAKE_CURRENT_BINARY_DIR}/generated"
  "${CMAKE_CURRENT_SOURCE_DIR}/names")
