// `koan predict MODEL FILE` for text classifiers: models whose architecture carries a "text"
// section (vocabulary and label names), such as examples/sentiment's.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace koan::app {

// True when the model file's architecture has a "text" section.
bool is_text_model(const nlohmann::json& architecture);

// Reads sentences from a TSV file (a header line naming a "sentence" column, and optionally
// "label") or a plain-text file (one sentence per non-empty line), and prints for each:
// index, label, probability of that label, sentence.  With labels in the file, also the accuracy.
int predict_text(const std::string& model_path, const std::string& input, int64_t limit);

}  // namespace koan::app
