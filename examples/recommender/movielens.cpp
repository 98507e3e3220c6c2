#include "recommender/movielens.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "koan/data/csv.h"
#include "koan/tensor/creation.h"

namespace koan::examples {

namespace {
// One non-negative integer per line.
std::vector<int64_t> read_rows(const std::string& path) {
  std::ifstream in(path);
  KOAN_CHECK(in.good(), IOError, "load_movielens: cannot open ", path);
  std::vector<int64_t> out;
  std::string line;
  for (int64_t lineno = 1; std::getline(in, line); ++lineno) {
    if (line.empty()) continue;
    KOAN_CHECK(line.find_first_not_of("0123456789") == std::string::npos, IOError, "load_movielens: ", path,
               " line ", lineno, ": expected a row number, got '", line, "'");
    out.push_back(std::stoll(line));
  }
  return out;
}

// Sorted distinct values and each value's position among them.
std::vector<int64_t> dense_ids(const std::vector<int64_t>& raw, std::vector<int64_t>& ids) {
  ids = raw;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::vector<int64_t> out(raw.size());
  for (size_t k = 0; k < raw.size(); ++k) out[k] = std::lower_bound(ids.begin(), ids.end(), raw[k]) - ids.begin();
  return out;
}

Ratings take(const std::vector<int64_t>& rows, const std::vector<int64_t>& u, const std::vector<int64_t>& i,
             const std::vector<double>& r) {
  std::vector<int64_t> uu, ii;
  std::vector<float> rr;
  for (int64_t k : rows) uu.push_back(u[k]), ii.push_back(i[k]), rr.push_back(static_cast<float>(r[k]));
  return {from_vector(uu), from_vector(ii), from_vector(rr)};
}

// movieId,year,title with the title last and unquoted (it may hold commas and quotes).
void read_titles(const std::string& path, std::map<int64_t, std::string>& titles) {
  std::ifstream in(path);
  KOAN_CHECK(in.good(), IOError, "load_movielens: cannot open ", path);
  std::string line;
  std::getline(in, line);  // header
  int64_t lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    size_t a = line.find(','), b = a == std::string::npos ? a : line.find(',', a + 1);
    KOAN_CHECK(b != std::string::npos, IOError, "load_movielens: ", path, " line ", lineno,
               ": expected movieId,year,title");
    int64_t id = std::stoll(line.substr(0, a));
    std::string year = line.substr(a + 1, b - a - 1);
    titles[id] = line.substr(b + 1) + (year.empty() || year == "0" ? "" : " (" + year + ")");
  }
}
}  // namespace

int64_t MovieLens::dense_user(int64_t user_id) const {
  auto it = std::lower_bound(user_ids.begin(), user_ids.end(), user_id);
  KOAN_CHECK(it != user_ids.end() && *it == user_id, IndexError, "MovieLens: no user ", user_id, " (ids ",
             user_ids.front(), "..", user_ids.back(), ")");
  return it - user_ids.begin();
}

MovieLens load_movielens(const std::string& folder, const std::string& test_rows) {
  const std::string ratings_path = folder + "/ratings.csv";
  KOAN_CHECK(std::filesystem::exists(ratings_path), IOError, "load_movielens: ", ratings_path,
             " is missing (run scripts/get-data movielens)");
  data::CsvTable t = data::read_csv(ratings_path, {.types = {{"userId", data::ColumnType::Int},
                                                            {"movieId", data::ColumnType::Int},
                                                            {"rating", data::ColumnType::Float}}});
  const int64_t n = t.rows();
  MovieLens ml;
  std::vector<int64_t> u = dense_ids(t.col("userId").ints, ml.user_ids);
  std::vector<int64_t> i = dense_ids(t.col("movieId").ints, ml.movie_ids);
  const std::vector<double>& r = t.col("rating").floats;
  ml.num_users = static_cast<int64_t>(ml.user_ids.size());
  ml.num_items = static_cast<int64_t>(ml.movie_ids.size());

  std::vector<int64_t> test = read_rows(test_rows);
  std::vector<bool> in_test(n, false);
  for (int64_t k : test) {
    KOAN_CHECK(k < n && !in_test[k], ValueError, "load_movielens: ", test_rows, " holds row ", k,
               k < n ? " twice" : " past the last row ", n - 1);
    in_test[k] = true;
  }
  std::vector<int64_t> train;
  for (int64_t k = 0; k < n; ++k)
    if (!in_test[k]) train.push_back(k);
  ml.train = take(train, u, i, r);
  ml.test = take(test, u, i, r);
  if (std::filesystem::exists(folder + "/movies.csv")) read_titles(folder + "/movies.csv", ml.titles);
  return ml;
}

}  // namespace koan::examples
