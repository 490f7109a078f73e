/// \file
/// GNM_CHECK and friends: one line per precondition, a typed exception with context on failure.
///
/// \code
/// GNM_CHECK(n > 0, "the vector length must be positive", n);
/// // throws gnm::Error: "check failed: n > 0: the vector length must be positive [n = -3]
/// //                     (at saxpy.cpp:42)"
/// GNM_CHECK_AS(gnm::ShapeError, a.cols == b.rows, "inner dimensions differ", a.cols, b.rows);
/// \endcode
///
/// Up to eight values may follow the message; each is printed as `expression = value`.
#pragma once

#include <sstream>
#include <string>

#include "gnm/core/error.hpp"

namespace gnm::detail {

/// Appends " name = value" pairs; `names` is the stringised, comma-separated argument list.
class CheckMessage {
 public:
  explicit CheckMessage(const char* condition, const std::string& message) {
    out_ << "check failed: " << condition;
    if (!message.empty()) out_ << ": " << message;
  }
  template <class T>
  CheckMessage& value(const char* name, const T& v) {
    out_ << (first_ ? " [" : ", ") << name << " = " << v;
    first_ = false;
    return *this;
  }
  std::string str() const { return first_ ? out_.str() : out_.str() + "]"; }

 private:
  std::ostringstream out_;
  bool first_ = true;
};

/// Throws NotImplemented for an exercise stub; never returns (see GNM_TODO).
[[noreturn]] void todo(const char* exercise, const char* hint, const char* file, int line);

}  // namespace gnm::detail

// A small FOR_EACH over up to eight arguments, used to name each value in the message.
#define GNM_DETAIL_CAT_(a, b) a##b
#define GNM_DETAIL_CAT(a, b) GNM_DETAIL_CAT_(a, b)
#define GNM_DETAIL_NARGS_(_1, _2, _3, _4, _5, _6, _7, _8, N, ...) N
#define GNM_DETAIL_NARGS(...) GNM_DETAIL_NARGS_(__VA_ARGS__ __VA_OPT__(, ) 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define GNM_DETAIL_V0()
#define GNM_DETAIL_V1(a) .value(#a, (a))
#define GNM_DETAIL_V2(a, ...) .value(#a, (a)) GNM_DETAIL_V1(__VA_ARGS__)
#define GNM_DETAIL_V3(a, ...) .value(#a, (a)) GNM_DETAIL_V2(__VA_ARGS__)
#define GNM_DETAIL_V4(a, ...) .value(#a, (a)) GNM_DETAIL_V3(__VA_ARGS__)
#define GNM_DETAIL_V5(a, ...) .value(#a, (a)) GNM_DETAIL_V4(__VA_ARGS__)
#define GNM_DETAIL_V6(a, ...) .value(#a, (a)) GNM_DETAIL_V5(__VA_ARGS__)
#define GNM_DETAIL_V7(a, ...) .value(#a, (a)) GNM_DETAIL_V6(__VA_ARGS__)
#define GNM_DETAIL_V8(a, ...) .value(#a, (a)) GNM_DETAIL_V7(__VA_ARGS__)
#define GNM_DETAIL_VALUES(...) \
  GNM_DETAIL_CAT(GNM_DETAIL_V, GNM_DETAIL_NARGS(__VA_ARGS__))(__VA_ARGS__)

/// Throws `ErrorType` (a gnm::Error) when `cond` is false; the message names `cond`, `msg`, each
/// of the (at most eight) values as `expr = value`, and file:line.
#define GNM_CHECK_AS(ErrorType, cond, msg, ...)                                              \
  do {                                                                                       \
    if (!(cond)) [[unlikely]] {                                                              \
      throw ErrorType(::gnm::detail::CheckMessage(#cond, (msg)) GNM_DETAIL_VALUES(__VA_ARGS__) \
                          .str(),                                                            \
                      __FILE__, __LINE__);                                                   \
    }                                                                                        \
  } while (0)

/// Throws gnm::Error when `cond` is false (see GNM_CHECK_AS).
#define GNM_CHECK(cond, msg, ...) GNM_CHECK_AS(::gnm::Error, cond, msg __VA_OPT__(, ) __VA_ARGS__)

/// Throws gnm::ShapeError when `cond` is false (see GNM_CHECK_AS).
#define GNM_CHECK_SHAPE(cond, msg, ...) \
  GNM_CHECK_AS(::gnm::ShapeError, cond, msg __VA_OPT__(, ) __VA_ARGS__)

/// Marks an exercise that the learner has not written yet: throws gnm::NotImplemented naming the
/// exercise ("ex 0.4") and a hint. Generated into exercises/ by scripts/make_exercises.py.
#define GNM_TODO(exercise, hint) ::gnm::detail::todo((exercise), (hint), __FILE__, __LINE__)
