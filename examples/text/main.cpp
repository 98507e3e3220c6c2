// Character-level LSTM and GRU language models on Moby Dick (issue 6, project 4).
//
//   scripts/get-data moby-dick
//   build/examples/koan_text                        # LSTM then GRU, 10 CPU-minutes each, 1 thread
//   build/examples/koan_text --model lstm --minutes 2
//
// The last 10% of the characters are held out; the add-one bigram model is the baseline; the
// held-out loss is in nats per character; samples are drawn at several temperatures.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "koan/core/error.h"
#include "koan/core/parallel.h"
#include "koan/tensor/random.h"
#include "text/char_corpus.h"
#include "text/char_rnn.h"
#include "text/lm_cli.h"
#include "text/train_lm.h"

using namespace koan;

int main(int argc, char** argv) {
  CLI::App app{"Character-level LSTM / GRU language models on Moby Dick"};
  std::string data = "data/moby-dick/moby-dick.txt", model = "both", out = "runs/text", prime = "Call me ";
  text::LMTrainOptions o;
  text::CharRNNOptions r;
  int threads = 1;
  uint64_t seed = 0;
  int64_t sample_chars = 400;
  std::vector<double> temperatures{0.5, 0.8, 1.0};
  app.add_option("--data", data, "Moby Dick text (scripts/get-data moby-dick)");
  app.add_option("--model", model, "lstm, gru or both")->check(CLI::IsMember({"lstm", "gru", "both"}));
  text::add_lm_train_options(app, o);
  app.add_option("--lr", o.lr, "Adam learning rate");
  app.add_option("--embed", r.embed, "Embedding size");
  app.add_option("--hidden", r.hidden, "Hidden size");
  app.add_option("--layers", r.layers, "Recurrent layers");
  app.add_option("--threads", threads, "Worker threads");
  app.add_option("--seed", seed, "Initialisation and batch order");
  app.add_option("--sample-chars", sample_chars, "Characters to sample per temperature");
  app.add_option("--temperatures", temperatures, "Sampling temperatures");
  app.add_option("--prime", prime, "Text the samples start from");
  app.add_option("--out", out, "Folder for the learning curves (SVG) and histories (CSV)");
  CLI11_PARSE(app, argc, argv);

  try {
    set_num_threads(threads);
    auto corpus = text::load_char_corpus(data, 0.1);
    std::printf("Moby Dick: %zu training characters, %zu held out, %lld symbols\n", corpus.train.size(),
                corpus.heldout.size(), static_cast<long long>(corpus.vocab_size()));
    const double bigram = text::bigram_heldout_nats(corpus);
    std::printf("add-one bigram baseline: %.4f nats/char on the held-out text\n\n", bigram);
    std::filesystem::create_directories(out);
    std::vector<std::string> cells = model == "both" ? std::vector<std::string>{"lstm", "gru"}
                                                     : std::vector<std::string>{model};
    std::vector<std::pair<std::string, double>> finals;
    for (const std::string& cell : cells) {
      manual_seed(seed);
      r.cell = cell;
      r.vocab = corpus.vocab_size();
      text::CharRNN net(r);
      std::printf("%s: %lld parameters; batch %lld x %lld chars, Adam %g, clip %g, %g CPU minutes, %d thread(s)\n",
                  net.repr().c_str(), static_cast<long long>(net.num_parameters()), static_cast<long long>(o.batch),
                  static_cast<long long>(o.context), o.lr, o.clip, o.minutes, threads);
      o.seed = seed;
      auto res = text::train_char_model(net, corpus, o);
      // The figure reported is on the whole held-out text, even if training evaluated a prefix.
      const double final_nats = o.eval_chars > 0 ? net.heldout_nats(corpus.heldout, o.context, o.batch) : res.heldout_nats;
      std::printf("%s: held-out %.4f nats/char after %lld steps (%.1f CPU min, %.1f min wall of training); bigram %.4f\n",
                  cell.c_str(), final_nats, static_cast<long long>(res.steps), res.train_cpu_seconds / 60,
                  res.train_seconds / 60, bigram);
      finals.push_back({cell, final_nats});
      res.history.save_csv(out + "/" + cell + "_history.csv");
      res.history.plot_svg(out + "/" + cell + "_curves.svg", "char " + cell + " on Moby Dick (one point per " +
                                                                 std::to_string(o.eval_every) + " steps)");
      Generator gen(seed + 1);
      for (double t : temperatures) {
        auto ids = net.generate(corpus.encode(prime), sample_chars, t, gen);
        std::printf("\n--- %s sample, temperature %.2f ---\n%s%s\n", cell.c_str(), t, prime.c_str(),
                    corpus.decode(ids).c_str());
      }
      std::printf("\n");
    }
    std::printf("summary (held-out nats/char): bigram %.4f", bigram);
    for (auto& [cell, v] : finals) std::printf("  %s %.4f", cell.c_str(), v);
    std::printf("\ncurves: %s/\n", out.c_str());
  } catch (const koan::Error& e) {
    std::cerr << "koan_text: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
