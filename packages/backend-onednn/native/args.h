// Argument checks for the addon's entry points: every value that crosses from JS is checked here before any
// pointer is used, and a bad one becomes a JS TypeError or RangeError that names the argument, what was expected
// and what was received.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace depthfold {

/** Largest extent of one dimension, and of one tensor in elements: far past any real tensor, well inside int64. */
constexpr int64_t kMaxExtent = int64_t{1} << 24;
constexpr int64_t kMaxElements = int64_t{1} << 31;

[[noreturn]] inline void ThrowType(const Napi::Env &env, const std::string &what, const std::string &expected,
                                   const std::string &received) {
  throw Napi::TypeError::New(env, what + ": expected " + expected + ", received " + received);
}

[[noreturn]] inline void ThrowRange(const Napi::Env &env, const std::string &what, const std::string &expected,
                                    const std::string &received) {
  throw Napi::RangeError::New(env, what + ": expected " + expected + ", received " + received);
}

inline std::string Describe(const Napi::Value &v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) return v.ToString().Utf8Value();  // as JS prints it: 1.5, NaN, Infinity
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    const char *kind = t.TypedArrayType() == napi_float32_array ? "Float32Array" : "a typed array of another type";
    return std::string(kind) + " of " + std::to_string(t.ElementLength()) + " elements";
  }
  if (v.IsArray()) return "an array of " + std::to_string(v.As<Napi::Array>().Length()) + " elements";
  if (v.IsString()) return "a string";
  if (v.IsObject()) return "an object";
  return "another value";
}

/** Argument `index` as a non-negative integer within [min, max]. */
inline int64_t IntArg(const Napi::CallbackInfo &info, size_t index, const char *name, int64_t min, int64_t max) {
  Napi::Value v = info[index];
  if (!v.IsNumber()) ThrowType(info.Env(), name, "a number", Describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min) || d > static_cast<double>(max)) {
    ThrowRange(info.Env(), name, "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]",
               Describe(v));
  }
  return static_cast<int64_t>(d);
}

/** Argument `index` as a finite number. */
inline float FloatArg(const Napi::CallbackInfo &info, size_t index, const char *name) {
  Napi::Value v = info[index];
  if (!v.IsNumber()) ThrowType(info.Env(), name, "a number", Describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) ThrowRange(info.Env(), name, "a finite number", Describe(v));
  return static_cast<float>(d);
}

/** Argument `index` as an array of `count` integers, each within [min, kMaxExtent]. */
inline std::vector<int64_t> IntsArg(const Napi::CallbackInfo &info, size_t index, const char *name, size_t count,
                                    int64_t min) {
  Napi::Value v = info[index];
  if (!v.IsArray() || v.As<Napi::Array>().Length() != count) {
    ThrowType(info.Env(), name, "an array of " + std::to_string(count) + " integers", Describe(v));
  }
  auto array = v.As<Napi::Array>();
  std::vector<int64_t> out(count);
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value e = array.Get(i);
    double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : std::nan("");
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min) ||
        d > static_cast<double>(kMaxExtent)) {
      ThrowRange(info.Env(), std::string(name) + "[" + std::to_string(i) + "]",
                 "an integer in [" + std::to_string(min) + ", " + std::to_string(kMaxExtent) + "]", Describe(e));
    }
    out[i] = static_cast<int64_t>(d);
  }
  return out;
}

/** The product of `dims`, refused past kMaxElements. */
inline int64_t ElementCount(const Napi::Env &env, const std::vector<int64_t> &dims, const char *name) {
  int64_t n = 1;
  for (int64_t d : dims) {
    n *= d;
    if (n > kMaxElements) ThrowRange(env, name, "at most " + std::to_string(kMaxElements) + " elements", "more");
  }
  return n;
}

/** Argument `index` as a Float32Array of exactly `length` elements; its data is read or written in place. */
inline float *FloatsArg(const Napi::CallbackInfo &info, size_t index, const char *name, int64_t length) {
  Napi::Value v = info[index];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowType(info.Env(), name, "a Float32Array of " + std::to_string(length) + " elements", Describe(v));
  }
  auto array = v.As<Napi::Float32Array>();
  if (static_cast<int64_t>(array.ElementLength()) != length) {
    ThrowRange(info.Env(), name, "a Float32Array of " + std::to_string(length) + " elements", Describe(v));
  }
  return array.Data();
}

/** Throws unless the call has exactly `count` arguments. */
inline void ExpectArgs(const Napi::CallbackInfo &info, const char *fn, size_t count) {
  if (info.Length() != count) {
    ThrowType(info.Env(), fn, std::to_string(count) + " arguments", std::to_string(info.Length()));
  }
}

}  // namespace depthfold
