/* plugin_api.h must stay plain C: this file is compiled as strict C99 (the static
 * asserts take their pre-C11 form) with -Wall -Wextra -Wpedantic -Werror; the
 * broken plugins compile it as C11 and every C++ file as C++. Nothing runs. */
#include <sdw/plugin_api.h>

size_t sdw_c99_check_table_v1_0_size(void);
size_t sdw_c99_check_table_v1_0_size(void) {
    return offsetof(sdw_plugin_api, context_describe) + sdw_dtype_size(SDW_DTYPE_F16) * 0;
}
