// SST-2 sentiment: a bag-of-embeddings baseline and a BiLSTM with max pooling, word embeddings
// learned from scratch, dev accuracy (issue 6, project 5).  Naive Bayes is the classic baseline.
//
//   scripts/get-data sst2                              # links ../shared/data/sst2 to data/sst2
//   build/examples/koan_sentiment                      # bag + bilstm, 1 thread
//   build/examples/koan_sentiment --models bigru --epochs 2
//   build/apps/koan/koan predict runs/sentiment/bilstm.koan data/sst2/dev.tsv --limit 5
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <tuple>

#include "koan/core/error.h"
#include "koan/core/parallel.h"
#include "koan/tensor/random.h"
#include "koan/train/model_file.h"
#include "sentiment/classifier.h"
#include "sentiment/sst2.h"

using namespace koan;

int main(int argc, char** argv) {
  CLI::App app{"SST-2 sentiment: bag of embeddings and (Bi)LSTM/GRU classifiers"};
  std::string data = "data/sst2", out = "runs/sentiment";
  std::vector<std::string> models{"bag", "bilstm"};
  sentiment::ClassifierTrainOptions o;
  sentiment::ClassifierSpec spec;
  int bag_epochs = 0;
  int threads = 1;
  double valid_fraction = 0.05;
  app.add_option("--data", data, "Folder with train.tsv and dev.tsv (scripts/get-data sst2)");
  app.add_option("--models", models, "Any of bag, lstm, bilstm, gru, bigru")->delimiter(',');
  app.add_option("--epochs", o.epochs, "Epochs for the recurrent models");
  app.add_option("--bag-epochs", bag_epochs, "Epochs for the bag of embeddings (default: --epochs)");
  app.add_option("--batch", o.batch_size, "Sentences per batch (of one length)");
  app.add_option("--lr", o.lr, "Adam learning rate");
  app.add_option("--embed", spec.embed, "Embedding size");
  app.add_option("--hidden", spec.hidden, "Hidden size per direction");
  app.add_option("--dropout", spec.dropout, "Dropout before the output layer");
  app.add_option("--valid-fraction", valid_fraction,
                 "Share of the training phrases held out to choose the epoch (0: keep the last epoch)");
  app.add_option("--threads", threads, "Worker threads");
  app.add_option("--seed", o.seed, "Initialisation and batch order");
  app.add_option("--out", out, "Folder for the model files, curves and histories");
  CLI11_PARSE(app, argc, argv);

  try {
    set_num_threads(threads);
    auto all_train = sentiment::read_sst2(data + "/train.tsv");
    auto dev = sentiment::read_sst2(data + "/dev.tsv");
    // The vocabulary, Naive Bayes and the networks all learn from the same phrases: train minus
    // the validation split that picks each network's epoch (dev is never used to choose anything).
    sentiment::Sentences train_set, valid;
    if (valid_fraction > 0) std::tie(train_set, valid) = sentiment::split_validation(all_train, valid_fraction, 1234);
    else train_set = std::move(all_train);
    if (valid.size() > 0) o.valid = &valid;
    auto vocab = sentiment::build_vocabulary(train_set);
    std::printf("SST-2: %zu training phrases (%zu more held out to choose the epoch), %zu dev sentences, %lld words in "
                "the vocabulary\n", train_set.size(), valid.size(), dev.size(), static_cast<long long>(vocab.size()));
    sentiment::NaiveBayes nb;
    nb.fit(train_set);
    std::printf("Naive Bayes (unigrams + bigrams): dev accuracy %.4f\n\n", nb.accuracy(dev));
    std::filesystem::create_directories(out);
    std::vector<std::pair<std::string, double>> finals;
    for (const std::string& kind : models) {
      manual_seed(o.seed);
      spec.kind = kind;
      spec.vocab = vocab.size();
      auto arch = sentiment::architecture(spec);
      auto net = train::build_sequential(arch);
      std::printf("%s: %lld parameters\n", kind.c_str(), static_cast<long long>(net->num_parameters()));
      auto oo = o;
      if (kind == "bag" && bag_epochs > 0) oo.epochs = bag_epochs;
      auto r = sentiment::train_classifier(*net, train_set, dev, vocab, oo);
      std::printf("%s: dev accuracy %.4f after %d epochs (%.1f s of training, %d thread(s))", kind.c_str(),
                  r.dev_accuracy, r.best_epoch, r.seconds, threads);
      if (o.valid)
        std::printf("; epoch %d of %d kept, best validation accuracy %.4f", r.best_epoch, oo.epochs, r.valid_accuracy);
      std::printf("\n\n");
      finals.push_back({kind, r.dev_accuracy});
      sentiment::save_text_model(out + "/" + kind + ".koan", *net, arch, vocab);
      r.history.save_csv(out + "/" + kind + "_history.csv");
      r.history.plot_svg(out + "/" + kind + "_curves.svg", "SST-2 " + kind);
    }
    std::printf("summary (dev accuracy): naive bayes %.4f", nb.accuracy(dev));
    for (auto& [k, v] : finals) std::printf("  %s %.4f", k.c_str(), v);
    std::printf("\nmodels: %s/<model>.koan (koan predict MODEL FILE)\n", out.c_str());
  } catch (const koan::Error& e) {
    std::cerr << "koan_sentiment: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
