// Project 6: a MovieLens recommender (docs/projects/recommender.md).
//   scripts/get-data movielens && build/examples/koan_recommender
// Test RMSE of four rating predictors of increasing capacity (global mean, user + item biases,
// matrix factorisation with biases, neural collaborative filtering), then the top-10
// recommendations of matrix factorisation for user 1.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "koan/core/parallel.h"
#include "koan/ops/index.h"
#include "koan/ops/shape.h"
#include "koan/tensor/creation.h"
#include "recommender/recommender.h"

using namespace koan;
using namespace koan::examples;

int main(int argc, char** argv) {
  std::string folder = "data/movielens", split = "scripts/data/splits/movielens_test.txt";
  std::string out_dir = "runs/recommender";
  int threads = 1;
  uint64_t seed = 0;
  std::vector<std::string> models = {"biases", "mf", "ncf"};
  int64_t user = 1, top_n = 10, min_ratings = 1;
  int epochs_bias = 20, epochs_mf = 25, epochs_ncf = 4;
  int64_t dim = 64, ncf_dim = 32, hidden = 64, batch = 1024;
  double reg = 10, reg_bias = 3, reg_ncf = 10, lr = 0.01, lr_ncf = 0.002;
  CLI::App app{"MovieLens rating prediction: global mean, biases, matrix factorisation, NCF"};
  app.add_option("--data", folder, "folder with ratings.csv and movies.csv (scripts/get-data movielens)");
  app.add_option("--split", split, "test row numbers, one per line");
  app.add_option("--dim", dim, "matrix factorisation: factors per user and movie");
  app.add_option("--ncf-dim", ncf_dim, "NCF: embedding size");
  app.add_option("--hidden", hidden, "NCF: first hidden layer (the second has half)");
  app.add_option("--reg", reg, "matrix factorisation: lambda");
  app.add_option("--reg-bias", reg_bias, "biases model: lambda");
  app.add_option("--reg-ncf", reg_ncf, "NCF: lambda on the embeddings and biases");
  app.add_option("--lr", lr, "Adam learning rate (biases and matrix factorisation)");
  app.add_option("--lr-ncf", lr_ncf, "Adam learning rate (NCF)");
  app.add_option("--epochs-bias", epochs_bias, "epochs of the biases model");
  app.add_option("--epochs", epochs_mf, "epochs of matrix factorisation");
  app.add_option("--epochs-ncf", epochs_ncf, "epochs of NCF");
  app.add_option("--batch-size", batch, "ratings per batch");
  app.add_option("--user", user, "the userId to recommend for");
  app.add_option("--top", top_n, "how many recommendations");
  app.add_option("--min-ratings", min_ratings, "recommend only movies with at least this many train ratings");
  app.add_option("--models", models, "which models to train (biases mf ncf)");
  app.add_option("--seed", seed, "initial weights and shuffling");
  app.add_option("--threads", threads, "threads");
  app.add_option("--out", out_dir, "folder for the histories and curves");
  CLI11_PARSE(app, argc, argv);
  set_num_threads(threads);

  try {
    MovieLens ml = load_movielens(folder, split);
    std::printf("MovieLens (dslabs): %lld users, %lld movies, %lld train / %lld test ratings\n\n",
                (long long)ml.num_users, (long long)ml.num_items, (long long)ml.train.size(),
                (long long)ml.test.size());
    std::filesystem::create_directories(out_dir);

    Recommender mean_only(ml.num_users, ml.num_items, ml.train, {.model = "biases"});
    const double rmse_mean = rmse_of_constant(mean_only.global_mean(), ml.test);
    std::printf("global mean %.4f: test RMSE %.4f\n\n", mean_only.global_mean(), rmse_mean);

    struct Run {
      std::string name, title;
      RecommenderOptions model;
      FitOptions fit;
      double reference;
    };
    std::vector<Run> runs = {
        {"biases", "user + item biases", {.model = "biases", .reg = reg_bias, .seed = seed},
         {.epochs = epochs_bias, .batch_size = batch, .lr = lr, .seed = seed}, 0.8845},
        {"mf", "matrix factorisation with biases, dim " + std::to_string(dim),
         {.model = "mf", .dim = dim, .reg = reg, .seed = seed},
         {.epochs = epochs_mf, .batch_size = batch, .lr = lr, .seed = seed}, 0.8737},
        {"ncf", "neural collaborative filtering, dim " + std::to_string(ncf_dim) + ", MLP " +
                    std::to_string(2 * ncf_dim) + "-" + std::to_string(hidden) + "-" + std::to_string(hidden / 2) + "-1",
         {.model = "ncf", .dim = ncf_dim, .hidden = hidden, .reg = reg_ncf, .seed = seed},
         {.epochs = epochs_ncf, .batch_size = batch, .lr = lr_ncf, .seed = seed}, 0.884},
    };
    std::erase_if(runs, [&](const Run& r) { return std::find(models.begin(), models.end(), r.name) == models.end(); });
    std::vector<double> results;
    std::unique_ptr<Recommender> mf;
    for (Run& run : runs) {
      auto model = std::make_unique<Recommender>(ml.num_users, ml.num_items, ml.train, run.model);
      std::printf("== %s: %lld parameters, lambda %g, Adam lr %g (sparse rows), batch %lld\n", run.title.c_str(),
                  (long long)model->num_parameters(), run.model.reg, run.fit.lr, (long long)run.fit.batch_size);
      FitResult r = fit_recommender(*model, ml.train, ml.test, run.fit);
      std::printf("test RMSE %.4f (reference %.4f) in %.1f s\n\n", r.test_rmse, run.reference, r.seconds);
      r.history.save_csv(out_dir + "/" + run.name + "_history.csv");
      r.history.plot_svg(out_dir + "/" + run.name + "_curves.svg", "MovieLens, " + run.title);
      results.push_back(r.test_rmse);
      if (run.name == "mf") mf = std::move(model);
    }

    std::printf("summary: test RMSE on %lld ratings (%d thread(s))\n", (long long)ml.test.size(), get_num_threads());
    std::printf("  %-60s %.4f  (reference 1.0567)\n", "global mean", rmse_mean);
    for (size_t k = 0; k < runs.size(); ++k)
      std::printf("  %-60s %.4f  (reference %.4f)\n", runs[k].title.c_str(), results[k], runs[k].reference);

    if (!mf) return 0;
    const int64_t u = ml.dense_user(user);
    // What the user told us: their training ratings, best first.
    std::vector<std::pair<float, int64_t>> seen;
    const auto tu = ml.train.user.to_vector<int64_t>(), ti = ml.train.item.to_vector<int64_t>();
    const auto tr = ml.train.rating.to_vector<float>();
    for (size_t k = 0; k < tu.size(); ++k)
      if (tu[k] == u) seen.push_back({tr[k], ti[k]});
    std::stable_sort(seen.begin(), seen.end(), [](auto& a, auto& b) { return a.first > b.first; });
    double total = 0;
    for (auto& [r, i] : seen) total += r;
    std::printf("\nuser %lld rated %zu movies in the training set (mean %.2f); the highest:\n", (long long)user,
                seen.size(), seen.empty() ? 0.0 : total / seen.size());
    for (size_t k = 0; k < std::min<size_t>(3, seen.size()); ++k) {
      auto t = ml.titles.find(ml.movie_ids[seen[k].second]);
      std::printf("      %-60s rated %.1f\n", t == ml.titles.end() ? "?" : t->second.c_str(), seen[k].first);
    }
    std::printf("\ntop-%lld recommendations for user %lld (matrix factorisation; movies the user rated in the\n"
                "training set are left out):\n",
                (long long)top_n, (long long)user);
    int rank = 0;
    for (const Recommendation& rec : recommend(*mf, ml, u, top_n, min_ratings))
      std::printf("  %2d. %-60s predicted %.2f\n", ++rank, rec.title.c_str(), rec.predicted);
    std::printf("histories and curves: %s/\n", out_dir.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "koan_recommender: " << e.what() << "\n";
    return 1;
  }
}
