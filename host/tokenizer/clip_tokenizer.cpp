#include "tokenizer/clip_tokenizer.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tokenizer/unicode_text.h"

namespace sdw {
namespace {

constexpr const char* kEndOfWord = "</w>";

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error(path.string() + ": cannot open");
    std::ostringstream contents;
    contents << in.rdbuf();
    if (in.bad()) throw std::runtime_error(path.string() + ": read error");
    return contents.str();
}

nlohmann::json read_json(const std::filesystem::path& path) {
    try {
        return nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(path.string() + ": invalid JSON: " + e.what());
    }
}

// GPT-2's reversible map from bytes to printable characters: printable Latin-1 bytes stand
// for themselves, the rest are shifted to U+0100 onwards in byte order. Stored as UTF-8.
const std::array<std::string, 256>& byte_characters() {
    static const std::array<std::string, 256> table = [] {
        std::array<std::string, 256> out;
        char32_t next_unprintable = 256;
        for (int byte = 0; byte < 256; ++byte) {
            const bool printable = (byte >= '!' && byte <= '~') || (byte >= 0xA1 && byte <= 0xAC) ||
                                   (byte >= 0xAE && byte <= 0xFF);
            unicode::append_utf8(out[byte], printable ? static_cast<char32_t>(byte) : next_unprintable++);
        }
        return out;
    }();
    return table;
}

// A special token in tokenizer_config.json is either a plain string or an AddedToken object.
std::optional<std::string> token_text(const nlohmann::json& config, const char* key) {
    const auto it = config.find(key);
    if (it == config.end() || it->is_null()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
        return (*it)["content"].get<std::string>();
    }
    return std::nullopt;
}

bool is_contraction_at(std::u32string_view text, size_t at, size_t& length) {
    if (text[at] != U'\'' || at + 1 >= text.size()) return false;
    for (std::u32string_view suffix : {U"s", U"t", U"re", U"ve", U"m", U"ll", U"d"}) {
        if (text.substr(at + 1, suffix.size()) == suffix) {
            length = 1 + suffix.size();
            return true;
        }
    }
    return false;
}

// CLIP's pre-tokenizer pattern, tried left to right with the alternatives in pattern order;
// text the pattern does not match (whitespace) is dropped.
std::vector<std::u32string> split_words(std::u32string_view text) {
    std::vector<std::u32string> words;
    size_t i = 0;
    while (i < text.size()) {
        const char32_t cp = text[i];
        size_t length = 0;
        if (is_contraction_at(text, i, length)) {
        } else if (unicode::is_letter(cp)) {
            while (i + length < text.size() && unicode::is_letter(text[i + length])) ++length;
        } else if (unicode::is_number(cp)) {
            length = 1;
        } else if (!unicode::is_whitespace(cp)) {
            while (i + length < text.size()) {
                const char32_t next = text[i + length];
                if (unicode::is_whitespace(next) || unicode::is_letter(next) || unicode::is_number(next)) break;
                ++length;
            }
        } else {
            ++i;
            continue;
        }
        words.emplace_back(text.substr(i, length));
        i += length;
    }
    return words;
}

std::u32string collapse_whitespace(std::u32string_view text) {
    std::u32string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        if (unicode::is_whitespace(text[i])) {
            out.push_back(U' ');
            while (i < text.size() && unicode::is_whitespace(text[i])) ++i;
        } else {
            out.push_back(text[i++]);
        }
    }
    return out;
}

}  // namespace

ClipTokenizer ClipTokenizer::load(const std::string& tokenizer_dir) {
    const std::filesystem::path dir(tokenizer_dir);
    ClipTokenizer tokenizer;

    // The small files first, so that a broken config is reported without parsing the vocab.
    const auto config_path = dir / "tokenizer_config.json";
    const nlohmann::json config = read_json(config_path);
    nlohmann::json special_map = nlohmann::json::object();
    if (std::filesystem::exists(dir / "special_tokens_map.json")) {
        special_map = read_json(dir / "special_tokens_map.json");
    }

    const auto vocab_path = dir / "vocab.json";
    const nlohmann::json vocab = read_json(vocab_path);
    if (!vocab.is_object() || vocab.empty()) {
        throw std::runtime_error(vocab_path.string() + ": expected an object of token ids");
    }
    for (const auto& [token, id] : vocab.items()) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
            id.get<int64_t>() > std::numeric_limits<int32_t>::max()) {
            throw std::runtime_error(vocab_path.string() + ": id of \"" + token + "\" is not a valid token id");
        }
        tokenizer.vocab_.emplace(token, id.get<int32_t>());
    }

    const auto merges_path = dir / "merges.txt";
    std::istringstream merges(read_file(merges_path));
    std::string line;
    uint32_t rank = 0;
    size_t line_number = 0;
    while (std::getline(merges, line)) {
        ++line_number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || (line_number == 1 && line.rfind("#version", 0) == 0)) continue;
        const size_t space = line.find(' ');
        if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
            throw std::runtime_error(merges_path.string() + ":" + std::to_string(line_number) +
                                     ": expected two tokens separated by one space");
        }
        const std::string left = line.substr(0, space);
        const std::string right = line.substr(space + 1);
        const auto left_id = tokenizer.vocab_.find(left);
        const auto right_id = tokenizer.vocab_.find(right);
        const auto merged_id = tokenizer.vocab_.find(left + right);
        if (left_id == tokenizer.vocab_.end() || right_id == tokenizer.vocab_.end() ||
            merged_id == tokenizer.vocab_.end()) {
            throw std::runtime_error(merges_path.string() + ":" + std::to_string(line_number) +
                                     ": merge of tokens missing from vocab.json");
        }
        const uint64_t key = (uint64_t{static_cast<uint32_t>(left_id->second)} << 32) |
                             static_cast<uint32_t>(right_id->second);
        tokenizer.merges_.emplace(key, Merge{rank++, merged_id->second});
    }

    auto special = [&](const char* key, const char* fallback) {
        if (auto text = token_text(config, key)) return *text;
        if (auto text = token_text(special_map, key)) return *text;
        return std::string(fallback);
    };

    // Ids of added tokens come from added_tokens_decoder when present, else from the vocab.
    std::unordered_map<std::string, int32_t> added;
    if (const auto it = config.find("added_tokens_decoder"); it != config.end() && it->is_object()) {
        for (const auto& [id_text, token] : it->items()) {
            if (!token.is_object() || !token.contains("content")) continue;
            try {
                added[token["content"].get<std::string>()] = std::stoi(id_text);
            } catch (const std::exception&) {
                throw std::runtime_error(config_path.string() + ": bad added_tokens_decoder id \"" + id_text + "\"");
            }
        }
    }
    auto special_id = [&](const std::string& text) {
        if (const auto it = added.find(text); it != added.end()) return it->second;
        if (const auto it = tokenizer.vocab_.find(text); it != tokenizer.vocab_.end()) return it->second;
        throw std::runtime_error(config_path.string() + ": special token \"" + text + "\" is not in the vocabulary");
    };

    const std::string bos = special("bos_token", "<|startoftext|>");
    const std::string eos = special("eos_token", "<|endoftext|>");
    const std::string unk = special("unk_token", "<|endoftext|>");
    const std::string pad = special("pad_token", "<|endoftext|>");
    tokenizer.bos_id_ = special_id(bos);
    tokenizer.eos_id_ = special_id(eos);
    tokenizer.unk_id_ = special_id(unk);
    tokenizer.pad_id_ = special_id(pad);

    std::vector<std::string> special_texts = {bos, eos, unk, pad};
    for (const auto& [text, id] : added) special_texts.push_back(text);
    std::sort(special_texts.begin(), special_texts.end());
    special_texts.erase(std::unique(special_texts.begin(), special_texts.end()), special_texts.end());
    for (const auto& text : special_texts) {
        if (!text.empty()) tokenizer.special_tokens_.emplace_back(text, special_id(text));
    }
    std::stable_sort(tokenizer.special_tokens_.begin(), tokenizer.special_tokens_.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });

    if (const auto it = config.find("model_max_length"); it != config.end()) {
        if (!it->is_number() || it->get<double>() < 2 || it->get<double>() > 1'000'000) {
            throw std::runtime_error(config_path.string() + ": model_max_length must be a number of tokens");
        }
        tokenizer.max_length_ = static_cast<int>(it->get<double>());
    }
    if (const auto it = config.find("do_lower_case"); it != config.end() && it->is_boolean()) {
        tokenizer.lower_case_ = it->get<bool>();
    }
    return tokenizer;
}

int32_t ClipTokenizer::lookup(const std::string& token) const {
    const auto it = vocab_.find(token);
    return it == vocab_.end() ? unk_id_ : it->second;
}

void ClipTokenizer::encode_word(const std::string& word, std::vector<int32_t>& ids) const {
    const auto& characters = byte_characters();
    std::vector<int32_t> symbols;
    symbols.reserve(word.size());
    for (size_t i = 0; i < word.size(); ++i) {
        const std::string& character = characters[static_cast<unsigned char>(word[i])];
        symbols.push_back(lookup(i + 1 == word.size() ? character + kEndOfWord : character));
    }

    // Merge the lowest-ranked adjacent pair (the leftmost on ties) until none is mergeable.
    while (symbols.size() > 1) {
        size_t best_position = 0;
        const Merge* best = nullptr;
        for (size_t i = 0; i + 1 < symbols.size(); ++i) {
            const uint64_t key = (uint64_t{static_cast<uint32_t>(symbols[i])} << 32) |
                                 static_cast<uint32_t>(symbols[i + 1]);
            const auto it = merges_.find(key);
            if (it != merges_.end() && (best == nullptr || it->second.rank < best->rank)) {
                best = &it->second;
                best_position = i;
            }
        }
        if (best == nullptr) break;
        symbols[best_position] = best->merged_id;
        symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best_position) + 1);
    }
    ids.insert(ids.end(), symbols.begin(), symbols.end());
}

void ClipTokenizer::encode_piece(const std::string& text, std::vector<int32_t>& ids) const {
    std::u32string normalized = collapse_whitespace(unicode::nfc(unicode::decode_utf8(text)));
    if (lower_case_) normalized = unicode::to_lower(normalized);
    for (const auto& word : split_words(normalized)) encode_word(unicode::encode_utf8(word), ids);
}

std::vector<int32_t> ClipTokenizer::encode(const std::string& text) const {
    std::vector<int32_t> ids{bos_id_};
    size_t piece_start = 0;
    size_t i = 0;
    while (i < text.size()) {
        const auto special = std::find_if(special_tokens_.begin(), special_tokens_.end(), [&](const auto& token) {
            return text.compare(i, token.first.size(), token.first) == 0;
        });
        if (special == special_tokens_.end()) {
            ++i;
            continue;
        }
        encode_piece(text.substr(piece_start, i - piece_start), ids);
        ids.push_back(special->second);
        i += special->first.size();
        piece_start = i;
    }
    encode_piece(text.substr(piece_start), ids);
    ids.push_back(eos_id_);
    return ids;
}

std::vector<int32_t> ClipTokenizer::encode_padded(const std::string& text) const {
    std::vector<int32_t> ids = encode(text);
    const auto length = static_cast<size_t>(max_length_);
    if (ids.size() > length) {
        ids.resize(length - 1);
        ids.push_back(eos_id_);
    }
    ids.resize(length, pad_id_);
    return ids;
}

}  // namespace sdw
