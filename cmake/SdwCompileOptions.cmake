# Warnings and sanitizers shared by every target of the project.

# sdw_target_defaults(<target>): warnings on, and the sanitizers from SDW_SANITIZE.
function(sdw_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                         -Wno-unused-parameter -Wnon-virtual-dtor)
endfunction()

if(SDW_SANITIZE)
  add_compile_options(-fsanitize=${SDW_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SDW_SANITIZE})
endif()

# sdw_add_plugin(<target> SOURCES...): a backend plugin shared object that exports only
# its entry symbols and lands in SDW_PLUGIN_OUTPUT_DIR as lib<target>.so.
function(sdw_add_plugin target)
  add_library(${target} MODULE ${ARGN})
  sdw_target_defaults(${target})
  set_target_properties(${target} PROPERTIES
    C_VISIBILITY_PRESET hidden CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${SDW_PLUGIN_OUTPUT_DIR})
  target_link_libraries(${target} PRIVATE sdw::plugin_api)
  # Undefined symbols are errors at link time, not at dlopen time.
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
endfunction()
