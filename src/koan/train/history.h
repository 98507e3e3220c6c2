// The record of a training run: one value per epoch for the loss and every metric, train and
// validation, and the learning curves drawn from it.
//
//   History h = model.fit(x, y, {.epochs = 5});
//   h.save_csv("history.csv");
//   h.plot_svg("curves.svg");          // loss and each metric, train vs validation
#pragma once
#include <map>
#include <string>
#include <vector>

namespace koan::train {

class History {
 public:
  // Appends one epoch's values ("loss", "accuracy", "val_loss", ...).
  void append(const std::map<std::string, double>& logs);
  const std::vector<double>& operator[](const std::string& key) const;
  bool has(const std::string& key) const { return values_.count(key) > 0; }
  std::vector<std::string> keys() const;  // in first-seen order
  size_t epochs() const { return epochs_; }

  // epoch,key1,key2,... one row per epoch.
  void save_csv(const std::string& path) const;
  static History load_csv(const std::string& path);
  // One panel per quantity (loss, then each metric), train and validation lines, as SVG.
  std::string to_svg(const std::string& title = "") const;
  void plot_svg(const std::string& path, const std::string& title = "") const;

 private:
  std::map<std::string, std::vector<double>> values_;
  std::vector<std::string> order_;
  size_t epochs_ = 0;
};

}  // namespace koan::train
