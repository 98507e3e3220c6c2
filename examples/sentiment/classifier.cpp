#include "sentiment/classifier.h"

#include <chrono>
#include <iomanip>

#include "koan/autograd/grad_mode.h"
#include "koan/core/error.h"
#include "koan/ops/loss.h"
#include "koan/ops/reduce.h"
#include "koan/ops/shape.h"
#include "koan/ops/binary.h"
#include "koan/optim/adam.h"
#include "koan/optim/clip_grad.h"
#include "koan/tensor/creation.h"
#include "koan/tensor/random.h"
#include "koan/train/model_file.h"

using namespace koan;
using json = nlohmann::json;

namespace sentiment {

json architecture(const ClassifierSpec& s) {
  KOAN_CHECK(s.vocab > 2 && s.embed > 0 && s.hidden > 0, ValueError, "sentiment classifier: vocab ", s.vocab,
             ", embed ", s.embed, ", hidden ", s.hidden, " must be positive (vocab > 2)");
  json layers = json::array();
  layers.push_back({{"type", "Embedding"}, {"num_embeddings", s.vocab}, {"embedding_dim", s.embed}, {"padding_idx", 0}});
  if (s.kind == "bag") {
    layers.push_back({{"type", "GlobalAvgPool1d"}});
    layers.push_back({{"type", "Linear"}, {"in", s.embed}, {"out", 2}});
    return {{"layers", layers}};
  }
  const bool bi = s.kind == "bilstm" || s.kind == "bigru";
  const bool lstm = s.kind == "lstm" || s.kind == "bilstm";
  KOAN_CHECK(lstm || s.kind == "gru" || s.kind == "bigru", ValueError, "sentiment classifier: unknown kind \"", s.kind,
             "\" (bag, lstm, bilstm, gru, bigru)");
  layers.push_back({{"type", lstm ? "LSTM" : "GRU"},
                    {"input_size", s.embed},
                    {"hidden_size", s.hidden},
                    {"batch_first", true},
                    {"bidirectional", bi}});
  layers.push_back({{"type", "GlobalMaxPool1d"}});
  layers.push_back({{"type", "Dropout"}, {"p", s.dropout}});
  layers.push_back({{"type", "Linear"}, {"in", s.hidden * (bi ? 2 : 1)}, {"out", 2}});
  return {{"layers", layers}};
}

namespace {

// Summed loss and number right over one batch.
std::pair<Tensor, int64_t> batch_loss(nn::Module& net, const Batch& b) {
  Tensor logits = net.forward(b.ids);
  Tensor loss = cross_entropy(logits, b.labels, {.reduction = Reduction::Sum});
  const int64_t right = sum(eq(argmax(logits, 1), b.labels)).item<int64_t>();
  return {loss, right};
}

}  // namespace

std::pair<double, double> evaluate(nn::Module& net, const Sentences& s, const data::Vocabulary& vocab) {
  const bool was_training = net.is_training();
  net.eval();
  NoGradGuard no_grad;
  double loss = 0;
  int64_t right = 0;
  for (const Batch& b : length_batches(s, vocab, 256)) {
    auto [l, r] = batch_loss(net, b);
    loss += to(l, DType::Float64).item<double>();
    right += r;
  }
  net.train(was_training);
  const auto n = static_cast<double>(s.size());
  return {loss / n, static_cast<double>(right) / n};
}

std::pair<Sentences, Sentences> split_validation(const Sentences& train, double fraction, uint64_t seed) {
  KOAN_CHECK(fraction > 0 && fraction < 1, ValueError, "split_validation: fraction must be in (0, 1), got ",
             fraction);
  KOAN_CHECK(train.labels.size() == train.size(), ValueError, "split_validation: ", train.size(),
             " phrases but ", train.labels.size(), " labels");
  const auto n = static_cast<int64_t>(train.size());
  const auto n_valid = static_cast<int64_t>(fraction * static_cast<double>(n));
  KOAN_CHECK(n_valid >= 1 && n_valid < n, ValueError, "split_validation: a fraction of ", fraction, " of ", n,
             " phrases leaves ", n_valid, " for validation");
  Generator gen(seed);
  Tensor order = randperm(n, &gen);
  const auto* idx = order.data_ptr<int64_t>();
  Sentences tr, va;
  for (int64_t i = 0; i < n; ++i) {
    Sentences& to = i < n_valid ? va : tr;
    to.tokens.push_back(train.tokens[idx[i]]);
    to.labels.push_back(train.labels[idx[i]]);
  }
  return {std::move(tr), std::move(va)};
}

ClassifierResult train_classifier(nn::Module& net, const Sentences& train, const Sentences& dev,
                                  const data::Vocabulary& vocab, const ClassifierTrainOptions& o) {
  KOAN_CHECK(o.epochs > 0, ValueError, "train_classifier: epochs must be positive, got ", o.epochs);
  optim::Adam opt(net.parameters(), {.lr = o.lr});
  Generator gen(o.seed);
  ClassifierResult r;
  nn::StateDict best;  // deep copies of the best validation epoch's weights
  double best_valid = -1;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    net.train();
    double loss_sum = 0;
    int64_t right = 0;
    for (const Batch& b : length_batches(train, vocab, o.batch_size, &gen)) {
      auto [loss, ok] = batch_loss(net, b);
      opt.zero_grad();
      div(loss, static_cast<double>(b.rows.size())).backward();
      if (o.clip > 0) optim::clip_grad_norm_(net.parameters(), o.clip);
      opt.step();
      loss_sum += loss.item<float>();
      right += ok;
    }
    r.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto n = static_cast<double>(train.size());
    auto [dev_loss, dev_acc] = evaluate(net, dev, vocab);
    std::map<std::string, double> row{{"loss", loss_sum / n}, {"accuracy", right / n}};
    if (o.valid) {
      auto [val_loss, val_acc] = evaluate(net, *o.valid, vocab);
      row.insert({{"val_loss", val_loss}, {"val_accuracy", val_acc}, {"dev_loss", dev_loss}, {"dev_accuracy", dev_acc}});
      if (val_acc > best_valid) {
        best_valid = val_acc;
        r.best_epoch = epoch;
        r.valid_accuracy = val_acc;
        r.dev_accuracy = dev_acc;
        best.clear();
        for (auto& [k, t] : net.state_dict()) best[k] = t.clone();
      }
    } else {
      row.insert({{"val_loss", dev_loss}, {"val_accuracy", dev_acc}});
      r.best_epoch = epoch;
      r.dev_accuracy = dev_acc;
    }
    r.history.append(row);
    if (o.out) {
      *o.out << "epoch " << epoch << "/" << o.epochs << "  " << std::fixed << std::setprecision(1) << r.seconds
             << " s  loss " << std::setprecision(4) << loss_sum / n << "  accuracy " << right / n;
      if (o.valid) *o.out << "  valid loss " << row["val_loss"] << "  valid accuracy " << row["val_accuracy"];
      *o.out << "  dev loss " << dev_loss << "  dev accuracy " << dev_acc << std::endl;
    }
  }
  if (o.valid) net.load_state_dict(best);
  return r;
}

void save_text_model(const std::string& path, const nn::Module& net, json arch, const data::Vocabulary& vocab) {
  json words = json::array();
  for (int64_t i = 0; i < vocab.size(); ++i) words.push_back(vocab.token(i));
  arch["text"] = {{"task", "sst2"},
                  {"tokens", "lower-cased words split on spaces, punctuation and clitics ('s n't) apart"},
                  {"labels", {"negative", "positive"}},
                  {"vocabulary", words}};
  train::save_model(path, net, arch);
}

}  // namespace sentiment
