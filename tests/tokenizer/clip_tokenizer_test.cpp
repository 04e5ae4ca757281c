// ClipTokenizer against the ids transformers' CLIPTokenizer gave for the fixture prompts
// (tests/fixtures/golden/tiny-sd/tokens.json: case, punctuation, accents, emoji, newlines, a
// prompt longer than 77 tokens and a literal <|endoftext|>).
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/clip_tokenizer.h"

namespace sdw {
namespace {

const std::string kFixtures = SDW_TEST_FIXTURES;
const std::string kTinySdTokenizer = kFixtures + "/models/tiny-sd/tokenizer";

struct GoldenPrompt {
    std::string prompt;
    std::vector<int32_t> ids_77;
    std::vector<int32_t> ids_untruncated;
};

std::vector<GoldenPrompt> golden_prompts() {
    std::ifstream in(kFixtures + "/golden/tiny-sd/tokens.json");
    const auto cases = nlohmann::json::parse(in);
    std::vector<GoldenPrompt> out;
    for (const auto& entry : cases) {
        out.push_back({entry.at("prompt").get<std::string>(), entry.at("ids_77").get<std::vector<int32_t>>(),
                       entry.at("ids_untruncated").get<std::vector<int32_t>>()});
    }
    return out;
}

const ClipTokenizer& tiny_sd_tokenizer() {
    static const ClipTokenizer tokenizer = ClipTokenizer::load(kTinySdTokenizer);
    return tokenizer;
}

int32_t vocab_id(const std::string& tokenizer_dir, const std::string& token) {
    std::ifstream in(tokenizer_dir + "/vocab.json");
    return nlohmann::json::parse(in).at(token).get<int32_t>();
}

TEST(ClipTokenizer, MatchesTransformersOnEveryFixturePrompt) {
    const auto prompts = golden_prompts();
    ASSERT_GE(prompts.size(), 10u);
    for (const auto& golden : prompts) {
        EXPECT_EQ(tiny_sd_tokenizer().encode(golden.prompt), golden.ids_untruncated) << golden.prompt;
        EXPECT_EQ(tiny_sd_tokenizer().encode_padded(golden.prompt), golden.ids_77) << golden.prompt;
    }
}

TEST(ClipTokenizer, FixtureCoversTruncation) {
    // The long prompt is what exercises truncation with the EOS kept; make sure it is there.
    bool has_long_prompt = false;
    for (const auto& golden : golden_prompts()) has_long_prompt |= golden.ids_untruncated.size() > 77;
    EXPECT_TRUE(has_long_prompt);
}

TEST(ClipTokenizer, SpecialIdsAndLengthComeFromTheFiles) {
    const auto& tokenizer = tiny_sd_tokenizer();
    EXPECT_EQ(tokenizer.bos_id(), vocab_id(kTinySdTokenizer, "<|startoftext|>"));
    EXPECT_EQ(tokenizer.eos_id(), vocab_id(kTinySdTokenizer, "<|endoftext|>"));
    EXPECT_EQ(tokenizer.pad_id(), vocab_id(kTinySdTokenizer, "<|endoftext|>"));
    EXPECT_EQ(tokenizer.max_length(), 77);
}

TEST(ClipTokenizer, DecomposedAccentsAreComposedFirst) {
    // The reference normalizes to NFC, so a prompt typed with combining accents gives the ids
    // of its precomposed spelling.
    const std::string composed = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e na\u00efve fa\u00e7ade";
    const std::string decomposed = "cafe\u0301 cre\u0300me bru\u0302le\u0301e nai\u0308ve fac\u0327ade";
    std::vector<int32_t> expected;
    for (const auto& golden : golden_prompts()) {
        if (golden.prompt == composed) expected = golden.ids_untruncated;
    }
    ASSERT_FALSE(expected.empty()) << "fixture prompt with accents not found";
    EXPECT_EQ(tiny_sd_tokenizer().encode(decomposed), expected);
}

TEST(ClipTokenizer, DefaultModelTokenizerLoadsAndAgrees) {
    const auto tokenizer = ClipTokenizer::load(std::string(SDW_DEFAULT_MODEL) + "/tokenizer");
    EXPECT_EQ(tokenizer.max_length(), 77);
    EXPECT_EQ(tokenizer.bos_id(), tiny_sd_tokenizer().bos_id());
    EXPECT_EQ(tokenizer.eos_id(), tiny_sd_tokenizer().eos_id());
    EXPECT_EQ(tokenizer.pad_id(), tiny_sd_tokenizer().pad_id());
    // sd-shapes ships the same CLIP vocabulary, so it must give the reference ids too.
    for (const auto& golden : golden_prompts()) {
        EXPECT_EQ(tokenizer.encode_padded(golden.prompt), golden.ids_77) << golden.prompt;
    }
}

class TemporaryTokenizerDir : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::path(testing::TempDir()) /
               ("clip_tokenizer_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
        for (const char* file : {"vocab.json", "merges.txt"}) {
            std::filesystem::copy_file(std::filesystem::path(kTinySdTokenizer) / file, dir_ / file,
                                       std::filesystem::copy_options::overwrite_existing);
        }
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    void write_config(const std::string& text) {
        std::ofstream(dir_ / "tokenizer_config.json") << text;
    }

    std::filesystem::path dir_;
};

TEST_F(TemporaryTokenizerDir, PadsWithTheConfiguredPadToken) {
    // SDXL's second tokenizer pads with "!" (written as an AddedToken object here).
    write_config(R"({"model_max_length": 77, "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
                    "unk_token": "<|endoftext|>", "pad_token": {"content": "!", "special": true}})");
    const auto tokenizer = ClipTokenizer::load(dir_.string());
    const int32_t exclamation = vocab_id(kTinySdTokenizer, "!");
    EXPECT_EQ(tokenizer.pad_id(), exclamation);
    const auto ids = tokenizer.encode_padded("a photo of a cat");
    const auto unpadded = tiny_sd_tokenizer().encode("a photo of a cat");
    ASSERT_EQ(ids.size(), 77u);
    EXPECT_TRUE(std::equal(unpadded.begin(), unpadded.end(), ids.begin()));
    for (size_t i = unpadded.size(); i < ids.size(); ++i) EXPECT_EQ(ids[i], exclamation);
}

TEST_F(TemporaryTokenizerDir, ShorterModelMaxLengthTruncatesKeepingEos) {
    write_config(R"({"model_max_length": 5})");
    const auto tokenizer = ClipTokenizer::load(dir_.string());
    const auto full = tiny_sd_tokenizer().encode("an astronaut riding a horse on the moon");
    const auto ids = tokenizer.encode_padded("an astronaut riding a horse on the moon");
    ASSERT_EQ(ids.size(), 5u);
    EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.begin() + 4), std::vector<int32_t>(full.begin(), full.begin() + 4));
    EXPECT_EQ(ids.back(), tokenizer.eos_id());
}

TEST_F(TemporaryTokenizerDir, ErrorsNameTheFile) {
    write_config("{ not json");
    try {
        ClipTokenizer::load(dir_.string());
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos) << e.what();
    }
    write_config("{}");
    std::filesystem::remove(dir_ / "merges.txt");
    try {
        ClipTokenizer::load(dir_.string());
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("merges.txt"), std::string::npos) << e.what();
    }
    std::filesystem::remove(dir_ / "vocab.json");
    try {
        ClipTokenizer::load(dir_.string());
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("vocab.json"), std::string::npos) << e.what();
    }
}

TEST(ClipTokenizer, MissingDirectoryIsNamed) {
    try {
        ClipTokenizer::load(kFixtures + "/does-not-exist");
        FAIL() << "expected an error";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("does-not-exist"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace sdw
