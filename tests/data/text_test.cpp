// Tokenisers, vocabulary, padding and language-model batching.
#include <gtest/gtest.h>

#include "data/data_test_util.h"
#include "koan/koan.h"

using namespace koan;
using namespace koan::data;
using koan::data::testing::TempDir;
using koan::data::testing::throws_with;
using koan::data::testing::write_text;
using Strings = std::vector<std::string>;

TEST(Tokenize, CharsKeepUtf8CharactersWhole) {
  EXPECT_EQ(tokenize_chars("h\xC3\xA9 \xE2\x82\xAC!"), (Strings{"h", "\xC3\xA9", " ", "\xE2\x82\xAC", "!"}));
  // A lead byte cut off at the end stays a single token rather than eating the text.
  EXPECT_EQ(tokenize_chars("a\xE2\x82"), (Strings{"a", "\xE2", "\x82"}));
}

TEST(Tokenize, Words) {
  std::string text = "The cat sat.\n  \nIt's   Fine!\n";
  EXPECT_EQ(tokenize_words(text), (Strings{"The", "cat", "sat", ".", "It", "'", "s", "Fine", "!"}));
  EXPECT_EQ(tokenize_words(text, {.lowercase = true, .split_punctuation = false, .eos = "<eos>"}),
            (Strings{"the", "cat", "sat.", "<eos>", "it's", "fine!", "<eos>"}));
  EXPECT_EQ(tokenize_words("no newline at end", {.eos = "<eos>"}), (Strings{"no", "newline", "at", "end", "<eos>"}));
}

TEST(Vocabulary, OrdersByFrequencyAndMapsRareTokensToUnk) {
  Strings tokens = tokenize_words("b a c a b a d");
  Vocabulary v(tokens, {.min_freq = 2});
  EXPECT_EQ(v.size(), 4);  // <pad> <unk> a b
  EXPECT_EQ(v.token(0), "<pad>");
  EXPECT_EQ(v.token(1), "<unk>");
  EXPECT_EQ(v.id("a"), 2);  // 3 times
  EXPECT_EQ(v.id("b"), 3);  // twice
  EXPECT_EQ(v.id("c"), v.unk_id());
  EXPECT_EQ(v.encode({"a", "zzz", "b"}), (std::vector<int64_t>{2, 1, 3}));
  EXPECT_THROW(v.token(4), IndexError);
  Vocabulary capped(tokens, {.max_size = 3});
  EXPECT_EQ(capped.size(), 3);
  EXPECT_EQ(capped.token(2), "a");
  // Ties break in byte order, so the ids never depend on hash order.
  Vocabulary ties(Strings{"z", "y", "x"});
  EXPECT_EQ(ties.decode({2, 3, 4}), (Strings{"x", "y", "z"}));
}

TEST(Vocabulary, SaveLoadAndEncodeDecodeRoundTrip) {
  TempDir dir("vocab");
  std::string text = "the quick brown fox jumps over the lazy dog\nthe end\n";
  Strings tokens = tokenize_words(text, {.eos = "<eos>"});
  Vocabulary v(tokens);
  v.save(dir.file("vocab.txt"));
  Vocabulary w = Vocabulary::load(dir.file("vocab.txt"));
  ASSERT_EQ(w.size(), v.size());
  for (int64_t i = 0; i < v.size(); ++i) EXPECT_EQ(w.token(i), v.token(i));
  EXPECT_EQ(w.decode(w.encode(tokens)), tokens);
  Tensor ids = v.encode_tensor(tokens);
  EXPECT_EQ(ids.dtype(), DType::Int64);
  EXPECT_EQ(ids.to_vector<int64_t>(), w.encode(tokens));

  Strings chars = tokenize_chars("abcab");
  Vocabulary cv(chars);
  EXPECT_EQ(cv.decode(cv.encode(chars)), chars);

  write_text(dir.file("dup.txt"), "<pad>\n<unk>\nx\nx\n");
  EXPECT_TRUE(throws_with<IOError>([&] { Vocabulary::load(dir.file("dup.txt")); }, {"dup.txt:4", "'x'"}));
  EXPECT_THROW(Vocabulary::load(dir.file("missing.txt")), IOError);
}

TEST(Padding, PadsAndTruncatesOnEitherSide) {
  std::vector<int64_t> s{5, 6, 7};
  EXPECT_EQ(pad_or_truncate(s, 5, 0), (std::vector<int64_t>{5, 6, 7, 0, 0}));
  EXPECT_EQ(pad_or_truncate(s, 5, 0, {.pad_side = Side::Left}), (std::vector<int64_t>{0, 0, 5, 6, 7}));
  EXPECT_EQ(pad_or_truncate(s, 2, 0), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(pad_or_truncate(s, 2, 0, {.truncate_side = Side::Left}), (std::vector<int64_t>{6, 7}));
  Tensor p = pad_sequences({{1, 2, 3, 4}, {9}, {}}, 3, -1);
  EXPECT_EQ(p.shape(), Shape({3, 3}));
  EXPECT_EQ(p.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3, 9, -1, -1, -1, -1, -1}));
}

TEST(LanguageModel, BatchifyCutsContiguousRows) {
  Tensor rows = batchify(arange(23), 4);  // 5 tokens per row; the last 3 dropped
  EXPECT_EQ(rows.shape(), Shape({4, 5}));
  EXPECT_EQ(rows.select(0, 2).to_vector<int64_t>(), (std::vector<int64_t>{10, 11, 12, 13, 14}));
  EXPECT_THROW(batchify(arange(5), 4), ValueError);
  EXPECT_THROW(batchify(zeros({2, 8}), 2), ShapeError);
}

TEST(LanguageModel, WindowsAreShiftedByOneAndContinueAcrossBatches) {
  // Stream 0..41 in 2 rows of 21: row 0 = 0..20, row 1 = 21..41.  Windows of 8 over the 20
  // (input, target) pairs per row: 8, 8, 4.
  auto lm = language_model_batches(arange(42), 2, 8);
  ASSERT_EQ(lm->size(), 3);
  std::vector<int64_t> expect_len{8, 8, 4};
  for (int64_t i = 0; i < 3; ++i) {
    Batch b = lm->get(i);
    ASSERT_EQ(b.input.shape(), Shape({2, expect_len[i]}));
    ASSERT_EQ(b.target.shape(), b.input.shape());
    for (int64_t r = 0; r < 2; ++r)
      for (int64_t j = 0; j < expect_len[i]; ++j) {
        int64_t x = b.input.at<int64_t>({r, j});
        EXPECT_EQ(x, r * 21 + i * 8 + j);              // contiguous within the row
        EXPECT_EQ(b.target.at<int64_t>({r, j}), x + 1);  // the next token
      }
  }
  // Batch i + 1 starts where batch i's targets left off minus one: the hidden state carries over.
  EXPECT_EQ(lm->get(1).input.at<int64_t>({1, 0}), lm->get(0).target.at<int64_t>({1, 6}) + 1);
  EXPECT_EQ(lm->get(2).target.at<int64_t>({0, 3}), 20);  // the last token of row 0 is a target once
  EXPECT_THROW(language_model_batches(arange(42), 2, 0), ValueError);
}
