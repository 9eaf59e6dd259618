# Shared build settings for every target of the project.

function(agentrt_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-missing-field-initializers>)
  # GCC 12 reports -Wrestrict false positives inside libstdc++'s std::string at -O2/-O3 (GCC bug 105329).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
  endif()
  if(AGENTRT_WERROR)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-Werror>)
  endif()
  # The same checks as scripts/sanitize-build (which sets them for every target through CMAKE_CXX_FLAGS, with
  # libFuzzer's coverage): undefined behaviour stops the program, so a test cannot pass over it.
  if(AGENTRT_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-sanitize-recover=undefined
                                             -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# agentrt_add_library(name SOURCES ... [DEPS ...]) : one static library per top-level folder.
function(agentrt_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  agentrt_target_defaults(${name})
endfunction()

# agentrt_add_test(name SOURCES ... DEPS ... [LABELS ...] [TIMEOUT s] [RESOURCE_LOCK name]) : one GoogleTest
# executable, its cases discovered by ctest.
function(agentrt_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT;RESOURCE_LOCK" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE AGENTRT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
                                             AGENTRT_BINARY_DIR="${PROJECT_BINARY_DIR}")
  agentrt_target_defaults(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  # RESOURCE_LOCK: cases that share something fixed (ports, files) run one at a time under ctest -j.
  set(lock "")
  if(ARG_RESOURCE_LOCK)
    set(lock RESOURCE_LOCK ${ARG_RESOURCE_LOCK})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT ${ARG_TIMEOUT} ${lock}
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
endfunction()

# agentrt_add_bench(name SOURCES ... DEPS ...) : a Google Benchmark executable; `make bench` runs them all.
function(agentrt_add_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark)
  target_compile_definitions(${name} PRIVATE AGENTRT_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  agentrt_target_defaults(${name})
  set_property(GLOBAL APPEND PROPERTY AGENTRT_BENCHES ${name})
endfunction()
