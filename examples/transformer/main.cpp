// A small character-level Transformer on Moby Dick, against an LSTM of about the same size and
// the same training time (issue 6, project 8).  Same split, loop and measure as examples/text.
//
//   scripts/get-data moby-dick
//   build/examples/koan_transformer                          # transformer, then LSTM 416, 10 CPU-minutes each
//   build/examples/koan_transformer --models transformer --minutes 2
#include <CLI/CLI.hpp>
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
#include "transformer/char_transformer.h"

using namespace koan;

int main(int argc, char** argv) {
  CLI::App app{"Character-level Transformer vs LSTM on Moby Dick"};
  std::string data = "data/moby-dick/moby-dick.txt", out = "runs/transformer", prime = "Call me ";
  std::vector<std::string> models{"transformer", "lstm"};
  text::LMTrainOptions o;
  o.lr = 2e-3;  // the LSTM's too: one optimizer setting for both
  text::CharTransformerOptions t;
  text::CharRNNOptions r{.cell = "lstm", .embed = 64, .hidden = 416};
  double lstm_lr = 2e-3;
  int threads = 1;
  uint64_t seed = 0;
  int64_t sample_chars = 400;
  double temperature = 0.8;
  app.add_option("--data", data, "Moby Dick text (scripts/get-data moby-dick)");
  app.add_option("--models", models, "transformer and/or lstm")->delimiter(',');
  text::add_lm_train_options(app, o);
  app.add_option("--lr", o.lr, "Adam learning rate of the Transformer");
  app.add_option("--lstm-lr", lstm_lr, "Adam learning rate of the LSTM");
  app.add_option("--d-model", t.d_model, "Transformer width");
  app.add_option("--heads", t.heads, "Attention heads");
  app.add_option("--layers", t.layers, "Transformer blocks");
  app.add_option("--dropout", t.dropout, "Transformer dropout");
  app.add_option("--lstm-hidden", r.hidden, "LSTM hidden size (416: about the Transformer's parameter count)");
  app.add_option("--threads", threads, "Worker threads");
  app.add_option("--seed", seed, "Initialisation and batch order");
  app.add_option("--sample-chars", sample_chars, "Characters to sample");
  app.add_option("--temperature", temperature, "Sampling temperature");
  app.add_option("--prime", prime, "Text the samples start from");
  app.add_option("--out", out, "Folder for the learning curves (SVG) and histories (CSV)");
  CLI11_PARSE(app, argc, argv);

  try {
    set_num_threads(threads);
    auto corpus = text::load_char_corpus(data, 0.1);
    const double bigram = text::bigram_heldout_nats(corpus);
    std::printf("Moby Dick: %zu training characters, %zu held out; add-one bigram %.4f nats/char\n\n",
                corpus.train.size(), corpus.heldout.size(), bigram);
    std::filesystem::create_directories(out);
    std::vector<std::string> lines;
    for (const std::string& kind : models) {
      KOAN_CHECK(kind == "transformer" || kind == "lstm", ValueError, "koan_transformer: unknown model \"", kind,
                 "\" (transformer, lstm)");
      manual_seed(seed);
      std::shared_ptr<text::CharModel> net;
      text::LMTrainOptions oo = o;
      oo.seed = seed;
      if (kind == "transformer") {
        t.vocab = corpus.vocab_size();
        t.context = o.context;
        net = std::make_shared<text::CharTransformer>(t);
      } else {
        r.vocab = corpus.vocab_size();
        net = std::make_shared<text::CharRNN>(r);
        oo.lr = lstm_lr;
      }
      std::printf("%s: %lld parameters; batch %lld x %lld chars, Adam %g, clip %g, %g CPU minutes, %d thread(s)\n",
                  net->repr().c_str(), static_cast<long long>(net->num_parameters()), static_cast<long long>(o.batch),
                  static_cast<long long>(o.context), oo.lr, o.clip, o.minutes, threads);
      auto res = text::train_char_model(*net, corpus, oo);
      const double final_nats = o.eval_chars > 0 ? net->heldout_nats(corpus.heldout, o.context, o.batch) : res.heldout_nats;
      char line[256];
      std::snprintf(line, sizeof line, "%-12s %9lld params  %6lld steps  %5.1f CPU min  held-out %.4f nats/char",
                    kind.c_str(), static_cast<long long>(net->num_parameters()), static_cast<long long>(res.steps),
                    res.train_cpu_seconds / 60, final_nats);
      std::printf("%s\n", line);
      lines.push_back(line);
      res.history.save_csv(out + "/" + kind + "_history.csv");
      res.history.plot_svg(out + "/" + kind + "_curves.svg",
                           "char " + kind + " on Moby Dick (one point per " + std::to_string(o.eval_every) + " steps)");
      Generator gen(seed + 1);
      auto ids = net->generate(corpus.encode(prime), sample_chars, temperature, gen, o.context);
      std::printf("\n--- %s sample, temperature %.2f ---\n%s%s\n\n", kind.c_str(), temperature, prime.c_str(),
                  corpus.decode(ids).c_str());
    }
    std::printf("summary (bigram %.4f nats/char):\n", bigram);
    for (auto& l : lines) std::printf("  %s\n", l.c_str());
    std::printf("curves: %s/\n", out.c_str());
  } catch (const koan::Error& e) {
    std::cerr << "koan_transformer: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
