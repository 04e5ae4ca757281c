// The CLIP tokenizer of Stable Diffusion's text encoders: byte-level BPE with an end-of-word
// suffix, producing exactly the ids of transformers' CLIPTokenizer (the `tokenizers`-based one
// of transformers 5) for any UTF-8 prompt.
//
// Pipeline, in the reference's order:
//  1. special tokens (bos, eos, unk, pad and any added special token) are cut out of the raw
//     text, leftmost and longest first, and map straight to their ids;
//  2. every other piece is normalized: NFC, each run of whitespace to one space, lowercase;
//  3. split into words by CLIP's pattern
//     's|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+ (whitespace dropped);
//  4. each word's UTF-8 bytes become GPT-2's printable byte characters, "</w>" marks the word's
//     end, and BPE merges by rank turn it into vocabulary tokens.
// No ftfy and no HTML unescaping: the reference does neither.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace sdw {

class ClipTokenizer {
public:
    // Reads vocab.json, merges.txt and tokenizer_config.json (special_tokens_map.json fills in
    // tokens the config lacks). Throws std::runtime_error naming the file on any error.
    static ClipTokenizer load(const std::string& tokenizer_dir);

    // BOS + tokens + EOS, not truncated.
    std::vector<int32_t> encode(const std::string& text) const;
    // Exactly max_length() ids: truncated to keep the final EOS, then padded with pad_id().
    std::vector<int32_t> encode_padded(const std::string& text) const;

    int32_t bos_id() const { return bos_id_; }
    int32_t eos_id() const { return eos_id_; }
    int32_t pad_id() const { return pad_id_; }
    int max_length() const { return max_length_; }

private:
    struct Merge {
        uint32_t rank;
        int32_t merged_id;
    };

    ClipTokenizer() = default;
    void encode_piece(const std::string& text, std::vector<int32_t>& ids) const;
    void encode_word(const std::string& word, std::vector<int32_t>& ids) const;
    int32_t lookup(const std::string& token) const;

    std::unordered_map<std::string, int32_t> vocab_;
    std::unordered_map<uint64_t, Merge> merges_;  // key: (left id << 32) | right id
    std::vector<std::pair<std::string, int32_t>> special_tokens_;  // longest first
    int32_t bos_id_ = 0;
    int32_t eos_id_ = 0;
    int32_t pad_id_ = 0;
    int32_t unk_id_ = 0;
    int max_length_ = 77;
    bool lower_case_ = true;
};

}  // namespace sdw
