// Result<T>: the [[nodiscard]] value-or-error type of Bulwark's data path.
//
// No exceptions cross the data path; functions that can fail on input return a Result.
//   Result<Config> r = load_config(path);
//   if (!r) { std::cerr << r.error().message; return 2; }
//   use(r.value());
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace bulwark {

struct Error {
  std::string message;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}      // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace bulwark
