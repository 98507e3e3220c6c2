// CSV files as typed columns, and their conversion to tensors.
//
//   data::CsvTable t = data::read_csv("iris.csv", {.types = {{"species", data::ColumnType::String}}});
//   Tensor x = t.to_tensor({"sepal_length", "sepal_width"});     // float32 (rows, 2)
//   Tensor y = t.column("label");                                 // int column -> int64 (rows)
//
// Each column is int, float or string.  A column's type is declared in CsvOptions::types or else
// inferred from the first data row (an inferred int column widens to float if a later row needs
// it).  A value that does not parse as its column's type, a row with the wrong number of fields
// or an unterminated quote is an IOError naming the file, the line and the column.  Quoting is
// RFC 4180 within a line ("a, b" and "say ""hi"""); an empty float field reads as NaN.
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "koan/tensor/tensor.h"

namespace koan::data {

enum class ColumnType { Int, Float, String };
std::string_view column_type_name(ColumnType t);

struct CsvOptions {
  bool header = true;    // without one, columns are named "0", "1", ...
  char delimiter = ',';
  std::map<std::string, ColumnType> types;  // by column name; others are inferred
};

class CsvTable {
 public:
  struct Column {
    std::string name;
    ColumnType type;
    std::vector<int64_t> ints;
    std::vector<double> floats;
    std::vector<std::string> strings;
  };

  int64_t rows() const { return rows_; }
  int64_t cols() const { return static_cast<int64_t>(columns_.size()); }
  std::vector<std::string> names() const;
  // The column's position; ValueError listing the columns when there is none of that name.
  int64_t index_of(const std::string& name) const;
  const Column& col(const std::string& name) const { return columns_[index_of(name)]; }
  ColumnType type(const std::string& name) const { return col(name).type; }
  const std::vector<std::string>& strings(const std::string& name) const;

  // One numeric column as a 1-D tensor: int -> int64, float -> float32 (or `dtype` if given).
  Tensor column(const std::string& name) const;
  Tensor column(const std::string& name, DType dtype) const;
  // Numeric columns side by side: (rows, names.size()) of dtype.
  Tensor to_tensor(const std::vector<std::string>& names, DType dtype = DType::Float32) const;

 private:
  friend CsvTable parse_csv(std::string_view, const CsvOptions&, const std::string&);
  std::string source_;
  int64_t rows_ = 0;
  std::vector<Column> columns_;
};

CsvTable read_csv(const std::string& path, const CsvOptions& options = {});
// The same on text in memory; `source` names it in errors.
CsvTable parse_csv(std::string_view text, const CsvOptions& options = {}, const std::string& source = "<string>");

}  // namespace koan::data
