// Pooling on oneDNN over NHWC tensors: average pooling without padding (the option-A shortcut's subsampling,
// global average pooling) and max pooling (the ResNet-50 stem's 3x3/2 pool), and their gradients.
//
// Max pooling skips padded taps, as tfjs's cpu kernel, PyTorch and ONNX do (padding acts as -infinity); on ties the
// first tap in row-major window order wins, as in tfjs's cpu kernel, so the gradient goes to the same element.
// The backward pass needs the forward's workspace (the index of each window's winner): it runs the forward again
// rather than keep the workspace between the two kernels. Measured on a ResNet-50 stem at 112 px (x [64, 56, 56,
// 64], 2 threads): forward 2.1 ms, backward 2.7 ms, so a kept workspace would save 2.1 ms of a step of about a
// second (200 GFLOP), and it would have to follow tfjs's tensors. A plain C++ loop took 5.2 ms forward and 26 ms
// backward.
#include "args.h"
#include "engine.h"
#include "kernels.h"

namespace depthfold {
namespace {

using tag = memory::format_tag;

/** A pool's shape, from the 14 integers the JS side passes (see src/native.ts). */
struct PoolGeometry {
  std::vector<int64_t> v;  // n h w c oh ow kh kw sh sw pt pl pb pr
  Dims src() const { return {v[0], v[3], v[1], v[2]}; }
  Dims dst() const { return {v[0], v[3], v[4], v[5]}; }
  Dims kernel() const { return {v[6], v[7]}; }
  Dims strides() const { return {v[8], v[9]}; }
  Dims padL() const { return {v[10], v[11]}; }
  Dims padR() const { return {v[12], v[13]}; }
  memory::desc srcMd() const { return Plain(src(), tag::nhwc); }
  memory::desc dstMd() const { return Plain(dst(), tag::nhwc); }
  int64_t srcCount() const { return v[0] * v[1] * v[2] * v[3]; }
  int64_t dstCount() const { return v[0] * v[4] * v[5] * v[3]; }
};

PoolGeometry ParsePool(const Napi::CallbackInfo &info, size_t index) {
  PoolGeometry g{IntsArg(info, index, "geometry", 14, 0)};
  const Napi::Env env = info.Env();
  for (int i = 0; i < 10; i++) {
    if (g.v[i] < 1) ThrowRange(env, "geometry[" + std::to_string(i) + "]", "a positive size", std::to_string(g.v[i]));
  }
  ElementCount(env, {g.v[0], g.v[1], g.v[2], g.v[3]}, "geometry: the input");
  ElementCount(env, {g.v[0], g.v[4], g.v[5], g.v[3]}, "geometry: the output");
  for (int i = 10; i < 14; i++) {
    // A window that lies wholly in the padding would pool nothing.
    const int64_t window = g.v[6 + (i % 2)];
    if (g.v[i] >= window) {
      ThrowRange(env, "geometry[" + std::to_string(i) + "]", "a padding below the window's " + std::to_string(window),
                 std::to_string(g.v[i]));
    }
  }
  for (int axis = 0; axis < 2; axis++) {
    const int64_t span = g.v[1 + axis] + g.v[10 + axis] + g.v[12 + axis] - g.v[6 + axis];
    const int64_t expected = span < 0 ? 0 : span / g.v[8 + axis] + 1;
    if (g.v[4 + axis] != expected) {
      ThrowRange(env, axis == 0 ? "geometry: output height" : "geometry: output width",
                 std::to_string(expected) + " for this input, window, stride and padding", std::to_string(g.v[4 + axis]));
    }
  }
  return g;
}

struct PoolForward {
  dnnl::pooling_forward::primitive_desc pd;
  dnnl::pooling_forward primitive;
  PoolForward(const PoolGeometry &g, dnnl::algorithm algorithm)
      : pd(dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, algorithm, g.srcMd(), g.dstMd(),
                                       g.strides(), g.kernel(), g.padL(), g.padR()),
           Ctx().engine),
        primitive(pd) {}
};

struct PoolBackward {
  dnnl::pooling_backward::primitive_desc pd;
  dnnl::pooling_backward primitive;
  PoolBackward(const PoolGeometry &g, dnnl::algorithm algorithm, const PoolForward &hint)
      : pd(dnnl::pooling_backward::desc(algorithm, g.srcMd(), g.dstMd(), g.strides(), g.kernel(), g.padL(), g.padR()),
           Ctx().engine, hint.pd),
        primitive(pd) {}
};

const auto kAvg = dnnl::algorithm::pooling_avg_exclude_padding;
const auto kMax = dnnl::algorithm::pooling_max;

PoolForward &CachedForward(const PoolGeometry &g, dnnl::algorithm algorithm) {
  return Cached<PoolForward>(Key(algorithm == kMax ? "maxpool" : "avgpool", g.v),
                             [&] { return PoolForward(g, algorithm); });
}

/** Max pooling's two primitives, the forward's workspace, and where the backward pass runs the forward into. */
struct MaxPool {
  PoolForward &forward;
  PoolBackward backward;
  memory workspace;
  memory y;  // the outputs of the backward pass's forward (discarded); allocated by the first backward pass
  explicit MaxPool(const PoolGeometry &g)
      : forward(CachedForward(g, kMax)),
        backward(g, kMax, forward),
        workspace(forward.pd.workspace_desc(), Ctx().engine) {}
};

MaxPool &CachedMaxPool(const PoolGeometry &g) {
  return Cached<MaxPool>(Key("maxpool-both", g.v), [&] { return MaxPool(g); });
}

}  // namespace

// avgPoolForward(geometry, x, y)
Napi::Value AvgPoolForward(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "avgPoolForward", 3);
  const PoolGeometry g = ParsePool(info, 0);
  float *x = FloatsArg(info, 1, "x", g.srcCount());
  float *y = FloatsArg(info, 2, "y", g.dstCount());
  CachedForward(g, kAvg).primitive.execute(Ctx().stream,
                                           {{DNNL_ARG_SRC, Wrap(g.srcMd(), x)}, {DNNL_ARG_DST, Wrap(g.dstMd(), y)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

// avgPoolBackward(geometry, dy, dx)
Napi::Value AvgPoolBackward(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "avgPoolBackward", 3);
  const PoolGeometry g = ParsePool(info, 0);
  float *dy = FloatsArg(info, 1, "dy", g.dstCount());
  float *dx = FloatsArg(info, 2, "dx", g.srcCount());
  PoolForward &hint = CachedForward(g, kAvg);
  auto &b = Cached<PoolBackward>(Key("avgpool-bwd", g.v), [&] { return PoolBackward(g, kAvg, hint); });
  b.primitive.execute(Ctx().stream, {{DNNL_ARG_DIFF_DST, Wrap(g.dstMd(), dy)}, {DNNL_ARG_DIFF_SRC, Wrap(g.srcMd(), dx)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

// maxPoolForward(geometry, x, y)
Napi::Value MaxPoolForward(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "maxPoolForward", 3);
  const PoolGeometry g = ParsePool(info, 0);
  float *x = FloatsArg(info, 1, "x", g.srcCount());
  float *y = FloatsArg(info, 2, "y", g.dstCount());
  // forward_training for the one primitive that the backward pass also runs; its workspace is not kept.
  auto &f = CachedMaxPool(g);
  f.forward.primitive.execute(Ctx().stream, {{DNNL_ARG_SRC, Wrap(g.srcMd(), x)},
                                             {DNNL_ARG_DST, Wrap(g.dstMd(), y)},
                                             {DNNL_ARG_WORKSPACE, f.workspace}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

// maxPoolBackward(geometry, x, dy, dx): the gradient of max pooling x, from x itself.
Napi::Value MaxPoolBackward(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "maxPoolBackward", 4);
  const PoolGeometry g = ParsePool(info, 0);
  float *x = FloatsArg(info, 1, "x", g.srcCount());
  float *dy = FloatsArg(info, 2, "dy", g.dstCount());
  float *dx = FloatsArg(info, 3, "dx", g.srcCount());
  auto &b = CachedMaxPool(g);
  if (!b.y) b.y = memory(g.dstMd(), Ctx().engine);
  b.forward.primitive.execute(Ctx().stream,
                              {{DNNL_ARG_SRC, Wrap(g.srcMd(), x)}, {DNNL_ARG_DST, b.y}, {DNNL_ARG_WORKSPACE, b.workspace}});
  b.backward.primitive.execute(Ctx().stream, {{DNNL_ARG_DIFF_DST, Wrap(g.dstMd(), dy)},
                                              {DNNL_ARG_DIFF_SRC, Wrap(g.srcMd(), dx)},
                                              {DNNL_ARG_WORKSPACE, b.workspace}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

}  // namespace depthfold
