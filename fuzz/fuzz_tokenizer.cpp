// The CLIP tokenizer on arbitrary prompt bytes (prompts are the one free-text field of every
// request; invalid UTF-8 included), with the vocabulary of the tiny-sd fixture model, which
// is CLIP's full one. Both encodings must end with EOS, and the padded one be max_length long.
#include "tokenizer/clip_tokenizer.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const sdw::ClipTokenizer tokenizer =
        sdw::ClipTokenizer::load(SDW_SOURCE_DIR "/tests/fixtures/models/tiny-sd/tokenizer");
    const std::string text(reinterpret_cast<const char *>(data), size);
    const auto ids = tokenizer.encode(text);
    if (ids.size() < 2 || ids.front() != tokenizer.bos_id() || ids.back() != tokenizer.eos_id())
        std::abort();
    const auto padded = tokenizer.encode_padded(text);
    if (padded.size() != static_cast<size_t>(tokenizer.max_length())) std::abort();
    return 0;
}
