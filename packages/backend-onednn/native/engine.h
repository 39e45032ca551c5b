// The oneDNN engine and stream of the calling thread, and a per-thread cache of primitives keyed by what
// determines them (kind and shapes). Creating a primitive descriptor costs far more than running a small
// primitive, so each shape's primitives and reorders are built once. Thread-local, because Node may load the addon
// in several worker threads, and oneDNN objects are not meant to be shared across threads without locks.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace depthfold {

using dnnl::memory;
using Dims = memory::dims;

struct Context {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

inline Context &Ctx() {
  thread_local Context context;
  return context;
}

/** A cache key: a kind and the integers that shape it. */
inline std::string Key(const char *kind, const std::vector<int64_t> &values) {
  std::string key(kind);
  for (int64_t v : values) {
    key += ':';
    key += std::to_string(v);
  }
  return key;
}

/** The integers of several shapes in one list, for a cache key. */
inline std::vector<int64_t> Joined(std::initializer_list<std::vector<int64_t>> parts) {
  std::vector<int64_t> out;
  for (const auto &p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/** The entry of `key` in the calling thread's cache of T, built by `make` on first use. */
template <class T, class Make>
T &Cached(const std::string &key, Make make) {
  thread_local std::unordered_map<std::string, std::unique_ptr<T>> cache;
  auto found = cache.find(key);
  if (found != cache.end()) return *found->second;
  auto entry = std::make_unique<T>(make());
  T &ref = *entry;
  cache.emplace(key, std::move(entry));
  return ref;
}

/** A plain memory descriptor of f32 values. */
inline memory::desc Plain(const Dims &dims, memory::format_tag tag) {
  return memory::desc(dims, memory::data_type::f32, tag);
}

/** A memory object over a caller's buffer (no copy). */
inline memory Wrap(const memory::desc &md, float *data) { return memory(md, Ctx().engine, data); }

}  // namespace depthfold
