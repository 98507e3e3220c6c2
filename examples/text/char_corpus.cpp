#include "text/char_corpus.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "koan/core/error.h"
#include "koan/data/text.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"

using namespace koan;

namespace text {

std::vector<int64_t> CharCorpus::encode(const std::string& s) const {
  std::vector<int64_t> ids;
  for (const std::string& c : data::tokenize_chars(s)) {
    auto it = std::lower_bound(chars.begin(), chars.end(), c);
    KOAN_CHECK(it != chars.end() && *it == c, ValueError, "char corpus: character \"", c,
               "\" is not in the corpus's ", chars.size(), " characters");
    ids.push_back(it - chars.begin());
  }
  return ids;
}

std::string CharCorpus::decode(const std::vector<int64_t>& ids) const {
  std::string s;
  for (int64_t id : ids) {
    KOAN_CHECK(id >= 0 && id < vocab_size(), IndexError, "char corpus: id ", id, " out of range [0, ", vocab_size(), ")");
    s += chars[static_cast<size_t>(id)];
  }
  return s;
}

CharCorpus make_char_corpus(const std::string& text, double heldout_fraction) {
  KOAN_CHECK(heldout_fraction > 0 && heldout_fraction < 1, ValueError,
             "char corpus: held-out fraction must be in (0, 1), got ", heldout_fraction);
  std::vector<std::string> tokens = data::tokenize_chars(text);
  const int64_t n = static_cast<int64_t>(tokens.size());
  const auto cut = static_cast<int64_t>((1 - heldout_fraction) * static_cast<double>(n));
  KOAN_CHECK(cut >= 2 && n - cut >= 2, ValueError, "char corpus: ", n, " characters are too few to split at ",
             heldout_fraction);
  CharCorpus c;
  c.chars = tokens;
  std::sort(c.chars.begin(), c.chars.end());
  c.chars.erase(std::unique(c.chars.begin(), c.chars.end()), c.chars.end());
  std::map<std::string, int64_t> id;
  for (size_t i = 0; i < c.chars.size(); ++i) id[c.chars[i]] = static_cast<int64_t>(i);
  c.train.reserve(static_cast<size_t>(cut));
  c.heldout.reserve(static_cast<size_t>(n - cut));
  for (int64_t i = 0; i < n; ++i) (i < cut ? c.train : c.heldout).push_back(id[tokens[static_cast<size_t>(i)]]);
  return c;
}

CharCorpus load_char_corpus(const std::string& path, double heldout_fraction) {
  return make_char_corpus(data::read_text(path), heldout_fraction);
}

double bigram_heldout_nats(const CharCorpus& corpus) {
  const int64_t V = corpus.vocab_size();
  std::vector<double> pair(static_cast<size_t>(V * V), 0.0), first(static_cast<size_t>(V), 0.0);
  for (size_t i = 0; i + 1 < corpus.train.size(); ++i) {
    pair[static_cast<size_t>(corpus.train[i] * V + corpus.train[i + 1])] += 1;
    first[static_cast<size_t>(corpus.train[i])] += 1;
  }
  double nll = 0;
  const auto& h = corpus.heldout;
  for (size_t i = 0; i + 1 < h.size(); ++i)
    nll -= std::log((pair[static_cast<size_t>(h[i] * V + h[i + 1])] + 1) / (first[static_cast<size_t>(h[i])] + V));
  return nll / static_cast<double>(h.size() - 1);
}

void random_windows(const std::vector<int64_t>& ids, int64_t batch, int64_t context, Generator& gen, Tensor& x,
                    Tensor& y) {
  const int64_t n = static_cast<int64_t>(ids.size());
  KOAN_CHECK(batch > 0 && context > 0 && n > context + 1, ValueError, "random_windows: batch ", batch, ", context ",
             context, " need more than ", context + 1, " ids, got ", n);
  std::vector<int64_t> xs(static_cast<size_t>(batch * context)), ys(xs.size());
  const auto span = static_cast<uint64_t>(n - context);  // offsets 0 .. n - context - 1
  for (int64_t b = 0; b < batch; ++b) {
    const auto o = static_cast<int64_t>(gen.next_u64() % span);
    std::copy_n(ids.begin() + o, context, xs.begin() + b * context);
    std::copy_n(ids.begin() + o + 1, context, ys.begin() + b * context);
  }
  x = from_vector(xs, Shape{batch, context});
  y = from_vector(ys, Shape{batch, context});
}

int64_t sample_index(const Tensor& logits, double temperature, Generator& gen) {
  Tensor l = contiguous(to(logits.detach(), DType::Float64));
  KOAN_CHECK(l.dim() == 1 && l.size(0) > 0, ShapeError, "sample_index: expected 1-D logits, got ", l.shape());
  const double* p = l.data_ptr<double>();
  const int64_t V = l.size(0);
  const int64_t best = std::max_element(p, p + V) - p;
  if (temperature < 1e-6) return best;
  // Softmax shifted by the maximum, then inverse-CDF sampling with one uniform draw.
  std::vector<double> w(static_cast<size_t>(V));
  double total = 0;
  for (int64_t i = 0; i < V; ++i) total += w[static_cast<size_t>(i)] = std::exp((p[i] - p[best]) / temperature);
  double u = bits_to_double(gen.next_u64()) * total;
  for (int64_t i = 0; i < V; ++i) {
    u -= w[static_cast<size_t>(i)];
    if (u < 0) return i;
  }
  return V - 1;
}

}  // namespace text
