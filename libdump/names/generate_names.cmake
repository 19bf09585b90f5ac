# generate_names.cmake - code -> name tables from a mingw-w64 header, at build time
#
# Run as a script (see names.cmake):
#   cmake -DINPUT=/usr/share/mingw-w64/include/ntstatus.h -DCAST=NTSTATUS
#         -DOUTPUT=<build>/restack_names/ntstatus_names_mingw.h
#         -DENTRY_TYPE=NtStatusNameEntry -DTABLE=kMingwNtStatusNames
#         -DENTRY_HEADER=restack/dump/ntstatus.h -DMIN_COUNT=1000
#         [-DSKIP_SEVERITY_BITS=ON] -P generate_names.cmake
#
# Reads every `#define NAME ((CAST)0xHEX)` (an `L` suffix allowed) from INPUT and
# writes a header holding `inline constexpr ENTRY_TYPE TABLE[]`, sorted by code, one
# row per code. When several names share a code the first in the header wins (ntstatus.h
# defines STATUS_SUCCESS before its alias STATUS_WAIT_0); the others are listed in a
# comment. SKIP_SEVERITY_BITS drops codes with bit 31 or 30 set: in bugcodes.h those are
# message-table strings (WINDOWS_NT_BANNER, BOOTING_IN_SAFEMODE_*, ...), not bug checks.
# Fails with a message naming the file when INPUT is missing or holds fewer than
# MIN_COUNT names (a changed format must not yield an empty table silently).
cmake_minimum_required(VERSION 3.25)

foreach(var INPUT CAST OUTPUT ENTRY_TYPE TABLE ENTRY_HEADER MIN_COUNT)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "generate_names.cmake: -D${var}=... is required")
  endif()
endforeach()

if(NOT EXISTS "${INPUT}")
  message(FATAL_ERROR
    "restack: ${INPUT} not found. The bug check and NTSTATUS names are generated "
    "from Debian's mingw-w64-common headers: install them with "
    "`apt-get install mingw-w64-common` (or `make deps`).")
endif()

set(define_regex "^#define[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]+\\(\\(${CAST}\\)[ \t]*0[xX]([0-9A-Fa-f]+)[lLuU]*\\)")
file(STRINGS "${INPUT}" lines REGEX "^#define[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]+\\(\\(${CAST}\\)")

set(rows "")
set(aliases "")
set(skipped "")
set(count 0)
foreach(line IN LISTS lines)
  if(NOT line MATCHES "${define_regex}")
    message(FATAL_ERROR "restack: ${INPUT}: cannot read this line as `#define NAME ((${CAST})0xHEX)`: ${line}")
  endif()
  set(name "${CMAKE_MATCH_1}")
  string(TOUPPER "${CMAKE_MATCH_2}" hex)
  # Drop leading zeros (REGEX REPLACE would re-anchor `^` after each match).
  string(REGEX MATCH "[^0].*$|0$" hex "${hex}")
  string(LENGTH "${hex}" len)
  if(len GREATER 8)
    message(FATAL_ERROR "restack: ${INPUT}: ${name}: 0x${hex} does not fit in 32 bits")
  endif()
  math(EXPR pad "8 - ${len}")
  string(REPEAT "0" ${pad} zeros)
  set(hex "${zeros}${hex}")
  if(SKIP_SEVERITY_BITS AND hex MATCHES "^[4-9A-F]")
    list(APPEND skipped "${name} 0x${hex}")
    continue()
  endif()
  if(DEFINED seen_${hex})
    list(APPEND aliases "${name} (0x${hex} is ${seen_${hex}})")
    continue()
  endif()
  set(seen_${hex} "${name}")
  # Eight upper-case hex digits: sorting the text sorts the codes.
  list(APPEND rows "${hex} ${name}")
  math(EXPR count "${count} + 1")
endforeach()

if(count LESS MIN_COUNT)
  message(FATAL_ERROR
    "restack: ${INPUT}: found only ${count} `#define NAME ((${CAST})0x...)` lines "
    "(expected at least ${MIN_COUNT}); has the header's format changed?")
endif()
list(SORT rows)

get_filename_component(input_name "${INPUT}" NAME)
get_filename_component(output_name "${OUTPUT}" NAME)
set(text "// ${output_name} - GENERATED from ${input_name} by libdump/names/generate_names.cmake; do not edit\n")
string(APPEND text "//\n// Source: ${INPUT} (Debian package mingw-w64-common).\n")
string(APPEND text "// ${count} names, sorted by code, one per code.\n")
if(aliases)
  string(APPEND text "// Aliases left out (the first name in the header wins):\n")
  foreach(a IN LISTS aliases)
    string(APPEND text "//   ${a}\n")
  endforeach()
endif()
if(skipped)
  string(APPEND text "// Message-table strings left out (bit 31 or 30 set; not bug check codes):\n")
  foreach(s IN LISTS skipped)
    string(APPEND text "//   ${s}\n")
  endforeach()
endif()
string(APPEND text "#pragma once\n\n#include \"${ENTRY_HEADER}\"\n\n")
string(APPEND text "namespace restack::dump::generated {\n\n")
string(APPEND text "inline constexpr ${ENTRY_TYPE} ${TABLE}[] = {\n")
foreach(row IN LISTS rows)
  string(REPLACE " " ";" parts "${row}")
  list(GET parts 0 hex)
  list(GET parts 1 name)
  string(APPEND text "    {0x${hex}u, \"${name}\"},\n")
endforeach()
string(APPEND text "};\n\n}  // namespace restack::dump::generated\n")

# Rewrite only on change, so that dependents are not rebuilt for nothing.
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${text}")
