// The MovieLens ratings of project 6 (docs/projects/recommender.md), as exported from Debian's
// r-cran-dslabs by scripts/get-data movielens, split by the committed test rows.
//
//   MovieLens ml = load_movielens("data/movielens", "scripts/data/splits/movielens_test.txt");
//   // ml.train.user / ml.train.item: int64 dense ids; ml.train.rating: float32 in [0.5, 5]
#pragma once
#include <map>
#include <string>
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan::examples {

struct Ratings {
  Tensor user, item;  // (n) int64, dense ids 0..num_users-1 / 0..num_items-1
  Tensor rating;      // (n) float32
  int64_t size() const { return rating.defined() ? rating.size(0) : 0; }
};

struct MovieLens {
  Ratings train, test;
  int64_t num_users = 0, num_items = 0;
  std::vector<int64_t> user_ids, movie_ids;  // dense id -> the data set's userId / movieId
  std::map<int64_t, std::string> titles;     // by movieId ("Toy Story (1995)"), where movies.csv has one

  int64_t dense_user(int64_t user_id) const;  // IndexError if the user is unknown
};

// Reads folder/ratings.csv (userId,movieId,rating,...) and, when present, folder/movies.csv
// (movieId,year,title).  Users and movies get dense ids in increasing order of their data set id,
// over all rows, so a movie seen only in the test rows still has an id (its embedding is never
// trained and stays at its initial value).  `test_rows` lists the 0-based rows of the test set.
MovieLens load_movielens(const std::string& folder, const std::string& test_rows);

}  // namespace koan::examples
