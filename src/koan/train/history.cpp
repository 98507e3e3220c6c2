#include "koan/train/history.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "koan/core/error.h"
#include "koan/io/file.h"

namespace koan::train {

void History::append(const std::map<std::string, double>& logs) {
  for (auto& [k, v] : logs) {
    auto& vec = values_[k];
    if (std::find(order_.begin(), order_.end(), k) == order_.end()) order_.push_back(k);
    vec.resize(epochs_, NAN);  // a key first seen late is NaN before
    vec.push_back(v);
  }
  ++epochs_;
  for (auto& [k, vec] : values_) vec.resize(epochs_, NAN);
}

const std::vector<double>& History::operator[](const std::string& key) const {
  auto it = values_.find(key);
  KOAN_CHECK(it != values_.end(), ValueError, "History: no values for \"", key, "\" (have ", keys(), ")");
  return it->second;
}

std::vector<std::string> History::keys() const { return order_; }

void History::save_csv(const std::string& path) const {
  std::ostringstream os;
  os << "epoch";
  for (auto& k : order_) os << ',' << k;
  os << '\n';
  os.precision(10);
  for (size_t e = 0; e < epochs_; ++e) {
    os << e + 1;
    for (auto& k : order_) os << ',' << values_.at(k)[e];
    os << '\n';
  }
  io::atomic_write(path, os.str());
}

History History::load_csv(const std::string& path) {
  std::ifstream f(path);
  KOAN_CHECK(f.good(), IOError, "History::load_csv: cannot open \"", path, "\"");
  std::string line;
  KOAN_CHECK(static_cast<bool>(std::getline(f, line)), IOError, "History::load_csv: \"", path, "\" is empty");
  std::vector<std::string> cols;
  {
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, ',')) cols.push_back(c);
  }
  KOAN_CHECK(!cols.empty() && cols[0] == "epoch", IOError, "History::load_csv: \"", path,
             "\" must start with an \"epoch\" column");
  History h;
  int lineno = 1;
  while (std::getline(f, line)) {
    ++lineno;
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::string cell;
    std::map<std::string, double> logs;
    size_t i = 0;
    while (std::getline(ss, cell, ',')) {
      if (i > 0 && i < cols.size()) {
        try {
          logs[cols[i]] = std::stod(cell);
        } catch (const std::exception&) {
          throw IOError(str("History::load_csv: ", path, ":", lineno, ": column \"", cols[i],
                            "\" is not a number: \"", cell, "\""));
        }
      }
      ++i;
    }
    KOAN_CHECK(i == cols.size(), IOError, "History::load_csv: ", path, ":", lineno, ": expected ",
               cols.size(), " columns, got ", i);
    h.append(logs);
  }
  // keep the file's column order
  h.order_.assign(cols.begin() + 1, cols.end());
  return h;
}

namespace {
std::string fmt(double v) {
  std::ostringstream os;
  os.precision(4);
  os << v;
  return os.str();
}
}  // namespace

std::string History::to_svg(const std::string& title) const {
  // Panels: each base quantity (keys without "val_"/"lr"), with its val_ twin when present.
  std::vector<std::string> bases;
  for (auto& k : order_)
    if (k.rfind("val_", 0) != 0 && k != "lr") bases.push_back(k);
  for (auto& k : order_)
    if (k.rfind("val_", 0) == 0 && std::find(bases.begin(), bases.end(), k.substr(4)) == bases.end())
      bases.push_back(k.substr(4));
  // The loss first, as Keras plots it.
  auto loss_it = std::find(bases.begin(), bases.end(), "loss");
  if (loss_it != bases.end()) std::rotate(bases.begin(), loss_it, loss_it + 1);
  const int pw = 420, ph = 300, margin = 55, cols = std::min<int>(2, std::max<int>(1, bases.size()));
  const int rows = (static_cast<int>(bases.size()) + cols - 1) / cols;
  const int W = cols * pw, H = rows * ph + 30;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H
     << "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << W / 2 << "\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">" << title << "</text>\n";
  for (size_t p = 0; p < bases.size(); ++p) {
    int ox = static_cast<int>(p % cols) * pw, oy = 30 + static_cast<int>(p / cols) * ph;
    const std::string& b = bases[p];
    std::vector<std::pair<std::string, const std::vector<double>*>> lines;
    if (has(b)) lines.push_back({"train", &values_.at(b)});
    if (has("val_" + b)) lines.push_back({"validation", &values_.at("val_" + b)});
    double lo = INFINITY, hi = -INFINITY;
    for (auto& [n, v] : lines)
      for (double x : *v)
        if (std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
    if (!std::isfinite(lo)) lo = 0, hi = 1;
    if (hi - lo < 1e-12) hi = lo + 1;
    double pad = (hi - lo) * 0.05;
    lo -= pad;
    hi += pad;
    int x0 = ox + margin, x1 = ox + pw - 15, y0 = oy + ph - 40, y1 = oy + 20;
    os << "<text x=\"" << (x0 + x1) / 2 << "\" y=\"" << oy + 14 << "\" text-anchor=\"middle\" font-weight=\"bold\">" << b << "</text>\n";
    os << "<rect x=\"" << x0 << "\" y=\"" << y1 << "\" width=\"" << x1 - x0 << "\" height=\"" << y0 - y1
       << "\" fill=\"none\" stroke=\"#888\"/>\n";
    for (int t = 0; t <= 4; ++t) {
      double v = lo + (hi - lo) * t / 4;
      int y = y0 - (y0 - y1) * t / 4;
      os << "<text x=\"" << x0 - 5 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">" << fmt(v) << "</text>\n";
      os << "<line x1=\"" << x0 << "\" x2=\"" << x1 << "\" y1=\"" << y << "\" y2=\"" << y << "\" stroke=\"#eee\"/>\n";
    }
    size_t n = epochs_;
    auto px = [&](size_t e) { return n <= 1 ? (x0 + x1) / 2.0 : x0 + (x1 - x0) * static_cast<double>(e) / (n - 1); };
    for (size_t e = 0; e < n; ++e)
      if (n <= 12 || e % ((n + 9) / 10) == 0)
        os << "<text x=\"" << px(e) << "\" y=\"" << y0 + 15 << "\" text-anchor=\"middle\">" << e + 1 << "</text>\n";
    os << "<text x=\"" << (x0 + x1) / 2 << "\" y=\"" << y0 + 30 << "\" text-anchor=\"middle\">epoch</text>\n";
    const char* colors[] = {"#1f77b4", "#ff7f0e"};
    for (size_t li = 0; li < lines.size(); ++li) {
      os << "<polyline fill=\"none\" stroke=\"" << colors[li] << "\" stroke-width=\"2\" points=\"";
      for (size_t e = 0; e < n; ++e) {
        double v = (*lines[li].second)[e];
        if (!std::isfinite(v)) continue;
        os << px(e) << ',' << y0 - (y0 - y1) * (v - lo) / (hi - lo) << ' ';
      }
      os << "\"/>\n";
      for (size_t e = 0; e < n; ++e) {
        double v = (*lines[li].second)[e];
        if (std::isfinite(v))
          os << "<circle cx=\"" << px(e) << "\" cy=\"" << y0 - (y0 - y1) * (v - lo) / (hi - lo) << "\" r=\"3\" fill=\"" << colors[li] << "\"/>\n";
      }
      os << "<text x=\"" << x1 - 5 << "\" y=\"" << y1 + 15 + 15 * li << "\" text-anchor=\"end\" fill=\"" << colors[li] << "\">"
         << lines[li].first << "</text>\n";
    }
  }
  os << "</svg>\n";
  return os.str();
}

void History::plot_svg(const std::string& path, const std::string& title) const {
  io::atomic_write(path, to_svg(title));
}

}  // namespace koan::train
