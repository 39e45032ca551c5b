// The precision of the convolutions and matmuls: fp32, or bf16 inputs with fp32 accumulation and fp32 outputs.
// The callers' tensors stay f32; a bf16 call first converts its inputs (a reorder) into this thread's scratch
// buffers. Where oneDNN has no bf16 implementation of a shape but its reference code, that shape runs in fp32 and
// the entry point says so in its return value (the JS side counts it).
//
// Converted copies are not kept from one call to the next. Measured with ONEDNN_VERBOSE on one thread, converting x
// and dy costs about a tenth of the bf16 convolutions' time (ResNet-20 at batch 128: 0.06-0.47 ms beside 0.6-2.1
// ms; ResNet-50 at 64 px: 11%). Keeping x's copy from the forward to the filter gradient, or dy's from the data to
// the filter gradient, would save 2-4% of it, and hold half as much memory again as the activations it copies from
// the forward to the backward pass. A filter's copy would serve no second call in training: the forward and the
// data gradient take different blocked layouts (AcdB32a2b against ABcd8a16b2a, say), and the optimizer changes the
// filter before the next step.
#pragma once

#include <napi.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "args.h"
#include "engine.h"

namespace depthfold {

/** The precision a call asks for, and the one it ran in (the JS side's 0 and 1, see src/precision.ts). */
enum class Precision : int { kF32 = 0, kBf16 = 1 };

inline Precision PrecisionArg(const Napi::CallbackInfo &info, size_t index) {
  return static_cast<Precision>(IntArg(info, index, "precision", 0, 1));
}

inline Napi::Value PrecisionValue(const Napi::Env &env, Precision p) {
  return Napi::Number::New(env, static_cast<int>(p));
}

/** The data type of a primitive's inputs at `p`; outputs and gradients written to the caller are f32 either way. */
inline memory::data_type InputType(Precision p) {
  return p == Precision::kBf16 ? memory::data_type::bf16 : memory::data_type::f32;
}

/** The scratch buffers of one thread, by slot: each grows to the largest copy asked of it, and is reused. */
inline void *Scratch(size_t slot, size_t bytes) {
  struct Buffer {
    std::unique_ptr<void, decltype(&std::free)> data{nullptr, &std::free};
    size_t size = 0;
  };
  thread_local Buffer buffers[2];
  Buffer &b = buffers[slot];
  if (b.size < bytes) {
    const size_t rounded = (bytes + 63) / 64 * 64;  // 64-byte aligned, as oneDNN's kernels prefer
    b.data.reset(std::aligned_alloc(64, rounded));
    if (!b.data) throw std::bad_alloc();
    b.size = rounded;
  }
  return b.data.get();
}

/** Scratch slots: one per operand a primitive takes from a copy. */
constexpr size_t kSrcSlot = 0, kDiffDstSlot = 1;
constexpr size_t kMatrixASlot = 0, kMatrixBSlot = 1;

/**
 * A caller's f32 operand in the layout and data type that a primitive takes: the caller's buffer itself where the
 * two agree, else a reorder into a scratch buffer (a conversion to bf16, a transposition, or both).
 */
struct OperandCopy {
  memory::desc user, wanted;
  size_t slot;
  bool needed;
  dnnl::reorder reorder;

  OperandCopy(const memory::desc &user_, const memory::desc &wanted_, size_t slot_)
      : user(user_), wanted(wanted_), slot(slot_), needed(user_ != wanted_) {
    if (needed) reorder = dnnl::reorder(dnnl::reorder::primitive_desc(Ctx().engine, user, Ctx().engine, wanted));
  }

  /** The operand for the primitive: `data` wrapped, or its copy (queued on this thread's stream). */
  memory From(float *data) const {
    memory source = Wrap(user, data);
    if (!needed) return source;
    memory copy(wanted, Ctx().engine, Scratch(slot, wanted.get_size()));
    reorder.execute(Ctx().stream, {{DNNL_ARG_FROM, source}, {DNNL_ARG_TO, copy}});
    return copy;
  }
};

/** True where oneDNN chose its reference code, which is far slower than any fp32 kernel. */
inline bool IsReference(const dnnl::primitive_desc_base &pd) {
  return std::string(pd.impl_info_str()).rfind("ref", 0) == 0;
}

/**
 * The cached primitives of `key` at precision `p`, built by `make(p)`: at bf16, where oneDNN has no implementation
 * (or only its reference code), those of fp32 instead. `ran` tells which.
 */
template <class T, class Make>
T &CachedAt(const char *kind, const std::vector<int64_t> &shape, Precision p, Precision &ran, Make make) {
  if (p == Precision::kBf16) {
    auto &bf16 = Cached<std::optional<T>>(Key(kind, shape) + ":bf16", [&] {
      std::optional<T> built;
      try {
        built.emplace(make(Precision::kBf16));
        if (IsReference(built->pd)) built.reset();
      } catch (const dnnl::error &) {
        built.reset();  // no bf16 implementation of this shape on this ISA: fp32 below
      }
      return built;
    });
    if (bf16) {
      ran = Precision::kBf16;
      return *bf16;
    }
  }
  ran = Precision::kF32;
  return Cached<T>(Key(kind, shape), [&] { return make(Precision::kF32); });
}

}  // namespace depthfold
