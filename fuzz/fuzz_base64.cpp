// base64_decode on arbitrary text (init images and masks arrive as base64 in JSON), and
// the round trip: whatever decodes must re-encode to bytes that decode to the same.
#include "image/base64.h"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    const auto decoded = sdw::base64_decode(text);
    if (decoded) {
        const auto again = sdw::base64_decode(sdw::base64_encode(*decoded));
        if (!again || *again != *decoded) std::abort();
    }
    // Encoding accepts any bytes; decoding its output must give them back.
    const auto round = sdw::base64_decode(sdw::base64_encode(data, size));
    if (!round || round->size() != size || !std::equal(round->begin(), round->end(), data))
        std::abort();
    return 0;
}
