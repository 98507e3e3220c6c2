// A character corpus for language models: the text as character ids, split into a training part
// and a contiguous held-out tail, plus the add-one (Laplace) bigram baseline.
//
//   auto corpus = text::load_char_corpus("data/moby-dick/moby-dick.txt", 0.1);
//   double nats = text::bigram_heldout_nats(corpus);     // 2.4655 on Moby Dick
//   Tensor x, y;  text::random_windows(corpus.train, 64, 128, gen, x, y);
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "koan/tensor/random.h"
#include "koan/tensor/tensor.h"

namespace text {

struct CharCorpus {
  // The symbols (one UTF-8 character each), in byte order; ids index this list.  It is the set
  // of characters of the whole text (only the set: every count comes from the training part).
  std::vector<std::string> chars;
  std::vector<int64_t> train, heldout;  // ids
  int64_t vocab_size() const { return static_cast<int64_t>(chars.size()); }
  std::vector<int64_t> encode(const std::string& s) const;   // ValueError on an unknown character
  std::string decode(const std::vector<int64_t>& ids) const;
};

// The first (1 - heldout_fraction) of the characters train, the rest (contiguous) is held out;
// the cut is at floor(0.9 * n), as Python's int(0.9 * n).
CharCorpus make_char_corpus(const std::string& text, double heldout_fraction = 0.1);
CharCorpus load_char_corpus(const std::string& path, double heldout_fraction = 0.1);

// Mean -log p(next | current) in nats over the held-out pairs, with p from the training pairs
// with add-one smoothing: (count(a, b) + 1) / (count(a) + V).
double bigram_heldout_nats(const CharCorpus& corpus);

// A batch of windows at uniformly random offsets: x (batch, context) = ids[o : o + context],
// y = ids[o + 1 : o + context + 1] (int64).
void random_windows(const std::vector<int64_t>& ids, int64_t batch, int64_t context, koan::Generator& gen,
                    koan::Tensor& x, koan::Tensor& y);

// Draws an index from softmax(logits / temperature) (logits a 1-D float tensor); temperature
// near 0 is greedy.
int64_t sample_index(const koan::Tensor& logits, double temperature, koan::Generator& gen);

}  // namespace text
