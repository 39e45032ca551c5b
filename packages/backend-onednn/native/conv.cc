// Conv2D and its two gradients on oneDNN: NHWC activations as tfjs holds them, and filters reordered from tfjs's
// HWIO into the blocked layout that oneDNN picks (`any`): with plain HWIO filters it falls back to a slow gemm path.
// In fp32, or with bf16 inputs and f32 accumulation and outputs (precision.h).
#include "args.h"
#include "engine.h"
#include "kernels.h"
#include "precision.h"

namespace depthfold {
namespace {

using tag = memory::format_tag;

/** A convolution's shape, from the 17 integers the JS side passes (see src/native.ts). */
struct ConvGeometry {
  std::vector<int64_t> v;  // n h w ci oh ow co kh kw sh sw dh dw pt pl pb pr
  int64_t at(int i) const { return v[static_cast<size_t>(i)]; }
  Dims src() const { return {at(0), at(3), at(1), at(2)}; }
  Dims dst() const { return {at(0), at(6), at(4), at(5)}; }
  Dims weights() const { return {at(6), at(3), at(7), at(8)}; }
  Dims strides() const { return {at(9), at(10)}; }
  Dims dilation() const { return {at(11) - 1, at(12) - 1}; }  // oneDNN counts the gaps: 0 is dense
  Dims padL() const { return {at(13), at(14)}; }
  Dims padR() const { return {at(15), at(16)}; }
  int64_t srcCount() const { return at(0) * at(1) * at(2) * at(3); }
  int64_t dstCount() const { return at(0) * at(4) * at(5) * at(6); }
  int64_t weightsCount() const { return at(7) * at(8) * at(3) * at(6); }
};

ConvGeometry ParseGeometry(const Napi::CallbackInfo &info, size_t index) {
  ConvGeometry g{IntsArg(info, index, "geometry", 17, 0)};
  const Napi::Env env = info.Env();
  for (int i = 0; i <= 12; i++) {
    if (g.at(i) < 1) ThrowRange(env, "geometry[" + std::to_string(i) + "]", "a positive size", std::to_string(g.at(i)));
  }
  ElementCount(env, {g.at(0), g.at(1), g.at(2), g.at(3)}, "geometry: the input");
  ElementCount(env, {g.at(0), g.at(4), g.at(5), g.at(6)}, "geometry: the output");
  for (int axis = 0; axis < 2; axis++) {
    const int64_t size = g.at(1 + axis), out = g.at(4 + axis), kernel = g.at(7 + axis), stride = g.at(9 + axis);
    const int64_t span = size + g.at(13 + axis) + g.at(15 + axis) - ((kernel - 1) * g.at(11 + axis) + 1);
    const int64_t expected = span < 0 ? 0 : span / stride + 1;
    if (out != expected) {
      ThrowRange(env, axis == 0 ? "geometry: output height" : "geometry: output width",
                 std::to_string(expected) + " for this input, filter, stride, dilation and padding", std::to_string(out));
    }
  }
  return g;
}

/** NHWC activations of data type `dt`: the caller's f32, or their bf16 copies. */
memory::desc Activations(const Dims &dims, memory::data_type dt = memory::data_type::f32) {
  return memory::desc(dims, dt, tag::nhwc);
}
memory::desc AnyWeights(const ConvGeometry &g, memory::data_type dt) { return memory::desc(g.weights(), dt, tag::any); }
memory::desc UserWeights(const ConvGeometry &g) { return Plain(g.weights(), tag::hwio); }

/** A reorder from the user's HWIO filter into the primitive's layout and the buffer it fills, or none where the two agree. */
struct WeightsReorder {
  bool needed;
  dnnl::reorder reorder;
  memory internal;

  WeightsReorder(const memory::desc &user, const memory::desc &wanted) : needed(user != wanted) {
    if (!needed) return;
    const dnnl::engine &eng = Ctx().engine;
    reorder = dnnl::reorder(dnnl::reorder::primitive_desc(eng, user, eng, wanted));
    internal = memory(wanted, eng);
  }

  /** The filter in the layout (and data type) the primitive wants: the caller's buffer itself, or the reordered copy. */
  memory From(const ConvGeometry &g, float *filter) {
    memory user = Wrap(UserWeights(g), filter);
    if (!needed) return user;
    reorder.execute(Ctx().stream, {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, internal}});
    return internal;
  }
};

/**
 * At bf16 the inputs of every primitive (x, the filter, dy) are bf16 copies, and what it writes for the caller (y,
 * dx, dfilter) is f32: oneDNN accumulates in f32 and converts once at the end.
 */
struct Forward {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::convolution_forward primitive;
  OperandCopy src;
  WeightsReorder toInternal;

  Forward(const ConvGeometry &g, Precision p)
      : pd(dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                           Activations(g.src(), InputType(p)), AnyWeights(g, InputType(p)),
                                           Activations(g.dst()), g.strides(), g.dilation(), g.padL(), g.padR()),
           Ctx().engine),
        primitive(pd),
        src(Activations(g.src()), pd.src_desc(), kSrcSlot),
        toInternal(UserWeights(g), pd.weights_desc()) {}
};

Forward &CachedForward(const ConvGeometry &g, Precision p, Precision &ran) {
  return CachedAt<Forward>("conv", g.v, p, ran, [&](Precision q) { return Forward(g, q); });
}

struct BackwardData {
  dnnl::convolution_backward_data::primitive_desc pd;
  dnnl::convolution_backward_data primitive;
  OperandCopy diffDst;
  WeightsReorder toInternal;

  BackwardData(const ConvGeometry &g, Precision p, const Forward &hint)
      : pd(dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, Activations(g.src()),
                                                 AnyWeights(g, InputType(p)), Activations(g.dst(), InputType(p)),
                                                 g.strides(), g.dilation(), g.padL(), g.padR()),
           Ctx().engine, hint.pd),
        primitive(pd),
        diffDst(Activations(g.dst()), pd.diff_dst_desc(), kDiffDstSlot),
        toInternal(UserWeights(g), pd.weights_desc()) {}
};

/**
 * True for a strided 1x1 convolution with fewer input channels than 16, the largest channel block of oneDNN 2.6's
 * jit 1x1 backward-weights kernels (avx2: 8, avx512 and avx512 bf16: 16). They first gather a strided NHWC input
 * into a per-thread scratch buffer, booked for the input's channels but addressed by their channel block, and
 * with fewer input channels than the block they write past it (uxlfoundation/oneDNN#6035: heap corruption, seen
 * here as `free(): invalid size`). Those convolutions compute their filter gradient from NCHW copies, which take
 * another path. With as many channels as the block or more the addressing stays inside the buffer, and ResNet's
 * strided 1x1 projections (64 and more channels) keep the fast NHWC kernels.
 */
bool StridedPointwise(const ConvGeometry &g) {
  return g.at(7) == 1 && g.at(8) == 1 && (g.at(9) > 1 || g.at(10) > 1) && g.at(3) < 16;
}

struct BackwardWeights {
  /** Whether x and dy are copied into NCHW first (see StridedPointwise). */
  bool planar;
  memory::desc srcMd, dstMd;
  dnnl::convolution_forward::primitive_desc hintPd;
  dnnl::convolution_backward_weights::primitive_desc pd;
  dnnl::convolution_backward_weights primitive;
  OperandCopy src, diffDst;
  bool reorderNeeded;
  memory internal;
  dnnl::reorder toUser;

  BackwardWeights(const ConvGeometry &g, Precision p, const Forward &hint)
      : planar(StridedPointwise(g)),
        srcMd(memory::desc(g.src(), InputType(p), planar ? tag::nchw : tag::nhwc)),
        dstMd(memory::desc(g.dst(), InputType(p), planar ? tag::nchw : tag::nhwc)),
        hintPd(planar ? dnnl::convolution_forward::primitive_desc(
                            dnnl::convolution_forward::desc(
                                dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, srcMd,
                                AnyWeights(g, InputType(p)), Plain(g.dst(), tag::nchw), g.strides(), g.dilation(),
                                g.padL(), g.padR()),
                            Ctx().engine)
                      : hint.pd),
        pd(dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, srcMd,
                                                    AnyWeights(g, memory::data_type::f32), dstMd, g.strides(),
                                                    g.dilation(), g.padL(), g.padR()),
           Ctx().engine, hintPd),
        primitive(pd),
        src(Activations(g.src()), srcMd, kSrcSlot),
        diffDst(Activations(g.dst()), dstMd, kDiffDstSlot),
        reorderNeeded(pd.diff_weights_desc() != UserWeights(g)) {
    if (!reorderNeeded) return;
    const dnnl::engine &eng = Ctx().engine;
    internal = memory(pd.diff_weights_desc(), eng);
    toUser = dnnl::reorder(dnnl::reorder::primitive_desc(eng, pd.diff_weights_desc(), eng, UserWeights(g)));
  }
};

}  // namespace

// conv2dForward(geometry, x, filter, y, precision) -> the precision it ran in
Napi::Value Conv2dForward(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "conv2dForward", 5);
  const ConvGeometry g = ParseGeometry(info, 0);
  float *x = FloatsArg(info, 1, "x", g.srcCount());
  float *filter = FloatsArg(info, 2, "filter", g.weightsCount());
  float *y = FloatsArg(info, 3, "y", g.dstCount());
  const Precision asked = PrecisionArg(info, 4);
  Precision ran;
  Forward &f = CachedForward(g, asked, ran);
  f.primitive.execute(Ctx().stream, {{DNNL_ARG_SRC, f.src.From(x)},
                                     {DNNL_ARG_WEIGHTS, f.toInternal.From(g, filter)},
                                     {DNNL_ARG_DST, Wrap(Activations(g.dst()), y)}});
  Ctx().stream.wait();
  return PrecisionValue(info.Env(), ran);
}

// conv2dBackwardData(geometry, dy, filter, dx, precision) -> the precision it ran in
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "conv2dBackwardData", 5);
  const ConvGeometry g = ParseGeometry(info, 0);
  float *dy = FloatsArg(info, 1, "dy", g.dstCount());
  float *filter = FloatsArg(info, 2, "filter", g.weightsCount());
  float *dx = FloatsArg(info, 3, "dx", g.srcCount());
  const Precision asked = PrecisionArg(info, 4);
  Precision ran;
  BackwardData &b = CachedAt<BackwardData>("conv-bwd-data", g.v, asked, ran, [&](Precision p) {
    Precision hintRan;
    return BackwardData(g, p, CachedForward(g, p, hintRan));
  });
  b.primitive.execute(Ctx().stream, {{DNNL_ARG_DIFF_DST, b.diffDst.From(dy)},
                                     {DNNL_ARG_WEIGHTS, b.toInternal.From(g, filter)},
                                     {DNNL_ARG_DIFF_SRC, Wrap(Activations(g.src()), dx)}});
  Ctx().stream.wait();
  return PrecisionValue(info.Env(), ran);
}

// conv2dBackwardWeights(geometry, x, dy, dfilter, precision) -> the precision it ran in
Napi::Value Conv2dBackwardWeights(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "conv2dBackwardWeights", 5);
  const ConvGeometry g = ParseGeometry(info, 0);
  float *x = FloatsArg(info, 1, "x", g.srcCount());
  float *dy = FloatsArg(info, 2, "dy", g.dstCount());
  float *dfilter = FloatsArg(info, 3, "dfilter", g.weightsCount());
  const Precision asked = PrecisionArg(info, 4);
  Precision ran;
  BackwardWeights &b = CachedAt<BackwardWeights>("conv-bwd-weights", g.v, asked, ran, [&](Precision p) {
    Precision hintRan;
    return BackwardWeights(g, p, CachedForward(g, p, hintRan));
  });
  memory user = Wrap(UserWeights(g), dfilter);
  b.primitive.execute(Ctx().stream, {{DNNL_ARG_SRC, b.src.From(x)},
                                     {DNNL_ARG_DIFF_DST, b.diffDst.From(dy)},
                                     {DNNL_ARG_DIFF_WEIGHTS, b.reorderNeeded ? b.internal : user}});
  if (b.reorderNeeded) b.toUser.execute(Ctx().stream, {{DNNL_ARG_FROM, b.internal}, {DNNL_ARG_TO, user}});
  Ctx().stream.wait();
  return PrecisionValue(info.Env(), ran);
}

}  // namespace depthfold
