#include "koan/data/csv.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "koan/tensor/creation.h"

namespace koan::data {

std::string_view column_type_name(ColumnType t) {
  switch (t) {
    case ColumnType::Int: return "int";
    case ColumnType::Float: return "float";
    case ColumnType::String: return "string";
  }
  return "?";
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_int(std::string_view s, int64_t& v) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

bool parse_float(std::string_view s, double& v) {
  s = trim(s);
  if (s.empty()) {
    v = std::numeric_limits<double>::quiet_NaN();  // a missing value
    return true;
  }
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Splits one line into fields (RFC 4180 quoting within the line).  Returns the 0-based field
// index of an unterminated quote, or -1.
int64_t split_fields(std::string_view line, char delim, std::vector<std::string>& fields) {
  fields.clear();
  std::string cur;
  size_t i = 0;
  for (;;) {
    cur.clear();
    if (i < line.size() && line[i] == '"') {
      ++i;
      bool closed = false;
      while (i < line.size()) {
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cur += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        cur += line[i++];
      }
      if (!closed) return static_cast<int64_t>(fields.size());
      while (i < line.size() && line[i] != delim) cur += line[i++];  // text after the quote, kept
    } else {
      while (i < line.size() && line[i] != delim) cur += line[i++];
    }
    fields.push_back(cur);
    if (i >= line.size()) return -1;
    ++i;  // the delimiter
  }
}

std::string where(const std::string& source, int64_t line, const CsvTable::Column& c, size_t k) {
  return str(source, ":", line, ": column ", k + 1, " ('", c.name, "')");
}

}  // namespace

std::vector<std::string> CsvTable::names() const {
  std::vector<std::string> r;
  for (const Column& c : columns_) r.push_back(c.name);
  return r;
}

int64_t CsvTable::index_of(const std::string& name) const {
  for (size_t k = 0; k < columns_.size(); ++k)
    if (columns_[k].name == name) return static_cast<int64_t>(k);
  throw ValueError(str("CsvTable: ", source_, " has no column '", name, "'; its columns are ", names()));
}

const std::vector<std::string>& CsvTable::strings(const std::string& name) const {
  const Column& c = col(name);
  KOAN_CHECK(c.type == ColumnType::String, DTypeError, "CsvTable::strings: column '", name, "' of ", source_,
             " is ", column_type_name(c.type), ", not string");
  return c.strings;
}

Tensor CsvTable::column(const std::string& name) const {
  return column(name, col(name).type == ColumnType::Int ? DType::Int64 : DType::Float32);
}

Tensor CsvTable::column(const std::string& name, DType dtype) const {
  const Column& c = col(name);
  KOAN_CHECK(c.type != ColumnType::String, DTypeError, "CsvTable::column: column '", name, "' of ", source_,
             " holds strings; map them to numbers first (e.g. with a Vocabulary)");
  Tensor t = c.type == ColumnType::Int ? from_vector(c.ints) : from_vector(c.floats);
  return t.dtype() == dtype ? t : t.to(dtype);
}

Tensor CsvTable::to_tensor(const std::vector<std::string>& names, DType dtype) const {
  KOAN_CHECK(!names.empty(), ValueError, "CsvTable::to_tensor: no columns named");
  Tensor out = empty({rows_, static_cast<int64_t>(names.size())}, {.dtype = DType::Float64});
  auto* o = out.data_ptr<double>();
  for (size_t k = 0; k < names.size(); ++k) {
    const Column& c = col(names[k]);
    KOAN_CHECK(c.type != ColumnType::String, DTypeError, "CsvTable::to_tensor: column '", names[k], "' of ",
               source_, " holds strings");
    for (int64_t r = 0; r < rows_; ++r)
      o[r * names.size() + k] = c.type == ColumnType::Int ? static_cast<double>(c.ints[r]) : c.floats[r];
  }
  return dtype == DType::Float64 ? out : out.to(dtype);
}

CsvTable parse_csv(std::string_view text, const CsvOptions& opts, const std::string& source) {
  CsvTable t;
  t.source_ = source;
  std::vector<std::string> fields;
  std::vector<bool> declared;
  bool have_columns = false;
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty()) continue;
    int64_t open = split_fields(line, opts.delimiter, fields);
    KOAN_CHECK(open < 0, IOError, "read_csv: ", source, ":", line_no, ": column ", open + 1,
               ": unterminated quoted field (quoted fields may not span lines)");

    if (!have_columns) {  // the first row fixes the columns
      have_columns = true;
      for (size_t k = 0; k < fields.size(); ++k) {
        CsvTable::Column c;
        c.name = opts.header ? std::string(trim(fields[k])) : std::to_string(k);
        auto it = opts.types.find(c.name);
        declared.push_back(it != opts.types.end());
        c.type = declared.back() ? it->second : ColumnType::Int;  // refined on the first data row
        t.columns_.push_back(std::move(c));
      }
      for (const auto& [name, type] : opts.types) t.index_of(name);  // a typo in types is an error
      if (opts.header) continue;
    }
    KOAN_CHECK(fields.size() == t.columns_.size(), IOError, "read_csv: ", source, ":", line_no, ": ",
               fields.size(), " fields, expected ", t.columns_.size(), " (columns ", t.names(), ")");
    for (size_t k = 0; k < fields.size(); ++k) {
      CsvTable::Column& c = t.columns_[k];
      const std::string& f = fields[k];
      if (t.rows_ == 0 && !declared[k]) {  // infer from the first data row
        int64_t iv;
        double dv;
        c.type = parse_int(f, iv) ? ColumnType::Int : parse_float(f, dv) ? ColumnType::Float : ColumnType::String;
      }
      switch (c.type) {
        case ColumnType::String: c.strings.push_back(f); break;
        case ColumnType::Int: {
          int64_t v;
          if (parse_int(f, v)) {
            c.ints.push_back(v);
            break;
          }
          double d;
          KOAN_CHECK(!declared[k] && parse_float(f, d), IOError, "read_csv: ", where(source, line_no, c, k),
                     ": cannot parse '", f, "' as int");
          // An inferred int column meeting 2.5 (or an empty field) becomes a float column.
          c.type = ColumnType::Float;
          c.floats.assign(c.ints.begin(), c.ints.end());
          c.ints.clear();
          c.floats.push_back(d);
          break;
        }
        case ColumnType::Float: {
          double v;
          KOAN_CHECK(parse_float(f, v), IOError, "read_csv: ", where(source, line_no, c, k), ": cannot parse '", f,
                     "' as float");
          c.floats.push_back(v);
          break;
        }
      }
    }
    ++t.rows_;
  }
  KOAN_CHECK(have_columns, IOError, "read_csv: ", source, ": empty file");
  return t;
}

CsvTable read_csv(const std::string& path, const CsvOptions& options) {
  std::ifstream in(path, std::ios::binary);
  KOAN_CHECK(in.good(), IOError, "read_csv: cannot open ", path);
  std::ostringstream buf;
  buf << in.rdbuf();
  return parse_csv(buf.str(), options, path);
}

}  // namespace koan::data
