# The out-of-tree plugin kit, end to end: install the plugin API package into a
# fresh prefix, configure and build examples/minimal-plugin against it alone
# (find_package(sdw_plugin_api 1)), run its own host-free test, then load the result
# with LOADER.
#   cmake -DBUILD_DIR=<sd-worker build> -DEXAMPLE_DIR=<examples/minimal-plugin>
#         -DWORK_DIR=<scratch> -DGENERATOR=<gen> -DCXX_COMPILER=<c++> -DLOADER=<exe>
#         -P kit_test.cmake
foreach(var BUILD_DIR EXAMPLE_DIR WORK_DIR GENERATOR CXX_COMPILER LOADER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "kit_test.cmake: -D${var}=... is required")
  endif()
endforeach()

function(step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "kit step '${name}' failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "kit step '${name}' ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
step(install ${CMAKE_COMMAND} --install ${BUILD_DIR} --component sdw_plugin_api --prefix ${prefix})
foreach(header plugin_api.h plugin_api.hpp tensor_views.hpp)
  if(NOT EXISTS ${prefix}/include/sdw/${header})
    message(FATAL_ERROR "the installed package lacks include/sdw/${header}")
  endif()
endforeach()
step(configure ${CMAKE_COMMAND} -S ${EXAMPLE_DIR} -B ${WORK_DIR}/build -G ${GENERATOR}
     -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release)
step(build ${CMAKE_COMMAND} --build ${WORK_DIR}/build)
step(self-test ${WORK_DIR}/build/minimal_plugin_test)
step(load ${LOADER} ${WORK_DIR}/build/libminimal_plugin.so)
message(STATUS "${step_output}")
# sdw-plugin-check tells the author what the host can do with it: the example only decodes.
if(LOADER MATCHES "sdw-plugin-check" AND NOT step_output MATCHES "NOTE operations: none: sd-worker cannot serve txt2img")
  message(FATAL_ERROR "sdw-plugin-check did not say which operations the example plugin serves")
endif()
