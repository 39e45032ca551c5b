// Kernels that move data rather than compute: average pooling (the option-A shortcut's subsampling) and its
// gradient, zero padding and slicing (a reorder into or out of a sub-block), the mean or sum over axes (global
// average pooling, a bias gradient), and batched MatMul (the head). All on plain row-major 4-D tensors.
#include <algorithm>

#include "args.h"
#include "engine.h"
#include "kernels.h"

namespace depthfold {
namespace {

using tag = memory::format_tag;

/** An average pool's shape, from the 14 integers the JS side passes (see src/native.ts). */
struct PoolGeometry {
  std::vector<int64_t> v;  // n h w c oh ow kh kw sh sw pt pl pb pr
  Dims src() const { return {v[0], v[3], v[1], v[2]}; }
  Dims dst() const { return {v[0], v[3], v[4], v[5]}; }
  Dims kernel() const { return {v[6], v[7]}; }
  Dims strides() const { return {v[8], v[9]}; }
  Dims padL() const { return {v[10], v[11]}; }
  Dims padR() const { return {v[12], v[13]}; }
  int64_t srcCount() const { return v[0] * v[1] * v[2] * v[3]; }
  int64_t dstCount() const { return v[0] * v[4] * v[5] * v[3]; }
};

PoolGeometry ParsePool(const Napi::CallbackInfo &info, size_t index) {
  PoolGeometry g{IntsArg(info, index, "geometry", 14, 0)};
  for (int i = 0; i < 10; i++) {
    if (g.v[i] < 1) ThrowRange(info.Env(), "geometry[" + std::to_string(i) + "]", "a positive size", std::to_string(g.v[i]));
  }
  ElementCount(info.Env(), {g.v[0], g.v[1], g.v[2], g.v[3]}, "geometry: the input");
  for (int axis = 0; axis < 2; axis++) {
    const int64_t span = g.v[1 + axis] + g.v[10 + axis] + g.v[12 + axis] - g.v[6 + axis];
    const int64_t expected = span < 0 ? 0 : span / g.v[8 + axis] + 1;
    if (g.v[4 + axis] != expected) {
      ThrowRange(info.Env(), axis == 0 ? "geometry: output height" : "geometry: output width",
                 std::to_string(expected) + " for this input, window, stride and padding", std::to_string(g.v[4 + axis]));
    }
  }
  return g;
}

struct PoolForward {
  dnnl::pooling_forward::primitive_desc pd;
  dnnl::pooling_forward primitive;
  explicit PoolForward(const PoolGeometry &g)
      : pd(dnnl::pooling_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::pooling_avg_exclude_padding,
                                       Plain(g.src(), tag::nhwc), Plain(g.dst(), tag::nhwc), g.strides(), g.kernel(),
                                       g.padL(), g.padR()),
           Ctx().engine),
        primitive(pd) {}
};

struct PoolBackward {
  dnnl::pooling_backward::primitive_desc pd;
  dnnl::pooling_backward primitive;
  PoolBackward(const PoolGeometry &g, const PoolForward &hint)
      : pd(dnnl::pooling_backward::desc(dnnl::algorithm::pooling_avg_exclude_padding, Plain(g.src(), tag::nhwc),
                                        Plain(g.dst(), tag::nhwc), g.strides(), g.kernel(), g.padL(), g.padR()),
           Ctx().engine, hint.pd),
        primitive(pd) {}
};

PoolForward &CachedPool(const PoolGeometry &g) {
  return Cached<PoolForward>(Key("avgpool", g.v), [&] { return PoolForward(g); });
}

/** A reorder between a whole plain 4-D tensor and a sub-block of another, at `offsets` within the larger. */
struct BlockCopy {
  memory::desc small;
  memory::desc block;  // the sub-block, as a view of the larger tensor
  dnnl::reorder reorder;
  BlockCopy(const Dims &smallDims, const Dims &largeDims, const Dims &offsets, bool intoLarge)
      : small(Plain(smallDims, tag::abcd)), block(Plain(largeDims, tag::abcd).submemory_desc(smallDims, offsets)) {
    const dnnl::engine &eng = Ctx().engine;
    reorder = intoLarge ? dnnl::reorder(dnnl::reorder::primitive_desc(eng, small, eng, block))
                        : dnnl::reorder(dnnl::reorder::primitive_desc(eng, block, eng, small));
  }
};

/** Throws unless `small` fits inside `large` at `offsets`. */
void CheckBlock(const Napi::Env &env, const std::vector<int64_t> &small, const std::vector<int64_t> &large,
                const std::vector<int64_t> &offsets, const char *what) {
  for (size_t i = 0; i < 4; i++) {
    if (offsets[i] + small[i] > large[i]) {
      ThrowRange(env, std::string(what) + " on axis " + std::to_string(i),
                 "offset + size <= " + std::to_string(large[i]), std::to_string(offsets[i] + small[i]));
    }
  }
}

}  // namespace

// avgPoolForward(geometry, x, y)
Napi::Value AvgPoolForward(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "avgPoolForward", 3);
  const PoolGeometry g = ParsePool(info, 0);
  float *x = FloatsArg(info, 1, "x", g.srcCount());
  float *y = FloatsArg(info, 2, "y", g.dstCount());
  CachedPool(g).primitive.execute(Ctx().stream, {{DNNL_ARG_SRC, Wrap(Plain(g.src(), tag::nhwc), x)},
                                                 {DNNL_ARG_DST, Wrap(Plain(g.dst(), tag::nhwc), y)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

// avgPoolBackward(geometry, dy, dx)
Napi::Value AvgPoolBackward(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "avgPoolBackward", 3);
  const PoolGeometry g = ParsePool(info, 0);
  float *dy = FloatsArg(info, 1, "dy", g.dstCount());
  float *dx = FloatsArg(info, 2, "dx", g.srcCount());
  PoolForward &hint = CachedPool(g);
  auto &b = Cached<PoolBackward>(Key("avgpool-bwd", g.v), [&] { return PoolBackward(g, hint); });
  b.primitive.execute(Ctx().stream, {{DNNL_ARG_DIFF_DST, Wrap(Plain(g.dst(), tag::nhwc), dy)},
                                     {DNNL_ARG_DIFF_SRC, Wrap(Plain(g.src(), tag::nhwc), dx)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

// pad(srcShape, before, dstShape, x, y): y is zero but for x placed at `before`.
Napi::Value Pad(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "pad", 5);
  const auto src = IntsArg(info, 0, "srcShape", 4, 1);
  const auto before = IntsArg(info, 1, "before", 4, 0);
  const auto dst = IntsArg(info, 2, "dstShape", 4, 1);
  CheckBlock(info.Env(), src, dst, before, "pad");
  float *x = FloatsArg(info, 3, "x", ElementCount(info.Env(), src, "srcShape"));
  const int64_t dstCount = ElementCount(info.Env(), dst, "dstShape");
  float *y = FloatsArg(info, 4, "y", dstCount);
  auto &copy = Cached<BlockCopy>(Key("pad", Joined({src, before, dst})), [&] { return BlockCopy(src, dst, before, true); });
  std::fill(y, y + dstCount, 0.f);
  copy.reorder.execute(Ctx().stream, {{DNNL_ARG_FROM, Wrap(copy.small, x)}, {DNNL_ARG_TO, Wrap(copy.block, y)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

// slice(srcShape, begin, dstShape, x, y): y is the block of x at `begin`.
Napi::Value Slice(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "slice", 5);
  const auto src = IntsArg(info, 0, "srcShape", 4, 1);
  const auto begin = IntsArg(info, 1, "begin", 4, 0);
  const auto dst = IntsArg(info, 2, "dstShape", 4, 1);
  CheckBlock(info.Env(), dst, src, begin, "slice");
  float *x = FloatsArg(info, 3, "x", ElementCount(info.Env(), src, "srcShape"));
  float *y = FloatsArg(info, 4, "y", ElementCount(info.Env(), dst, "dstShape"));
  auto &copy = Cached<BlockCopy>(Key("slice", Joined({src, begin, dst})), [&] { return BlockCopy(dst, src, begin, false); });
  copy.reorder.execute(Ctx().stream, {{DNNL_ARG_FROM, Wrap(copy.block, x)}, {DNNL_ARG_TO, Wrap(copy.small, y)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

// reduce(op, srcShape, dstShape, x, y): op 0 the mean, 1 the sum, over the axes where dstShape is 1 and srcShape
// is not.
Napi::Value Reduce(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "reduce", 5);
  const auto algorithm =
      IntArg(info, 0, "op", 0, 1) == 0 ? dnnl::algorithm::reduction_mean : dnnl::algorithm::reduction_sum;
  const auto src = IntsArg(info, 1, "srcShape", 4, 1);
  const auto dst = IntsArg(info, 2, "dstShape", 4, 1);
  for (size_t i = 0; i < 4; i++) {
    if (dst[i] != src[i] && dst[i] != 1) {
      ThrowRange(info.Env(), "dstShape[" + std::to_string(i) + "]", "1 or " + std::to_string(src[i]),
                 std::to_string(dst[i]));
    }
  }
  float *x = FloatsArg(info, 3, "x", ElementCount(info.Env(), src, "srcShape"));
  float *y = FloatsArg(info, 4, "y", ElementCount(info.Env(), dst, "dstShape"));
  auto &r = Cached<dnnl::reduction>(Key("reduce", Joined({src, dst, {static_cast<int64_t>(algorithm)}})), [&] {
    return dnnl::reduction(dnnl::reduction::primitive_desc(
        dnnl::reduction::desc(algorithm, Plain(src, tag::abcd), Plain(dst, tag::abcd), 0.f, 0.f),
        Ctx().engine));
  });
  r.execute(Ctx().stream, {{DNNL_ARG_SRC, Wrap(Plain(src, tag::abcd), x)}, {DNNL_ARG_DST, Wrap(Plain(dst, tag::abcd), y)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

// matMul([batch, m, k, n], transposeA, transposeB, a, b, y): y[i] = op(a[i]) op(b[i]), row-major.
Napi::Value MatMul(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "matMul", 6);
  const auto s = IntsArg(info, 0, "shape", 4, 1);
  const bool ta = info[1].ToBoolean().Value();
  const bool tb = info[2].ToBoolean().Value();
  const int64_t batch = s[0], m = s[1], k = s[2], n = s[3];
  float *a = FloatsArg(info, 3, "a", ElementCount(info.Env(), {batch, m, k}, "a"));
  float *b = FloatsArg(info, 4, "b", ElementCount(info.Env(), {batch, k, n}, "b"));
  float *y = FloatsArg(info, 5, "y", ElementCount(info.Env(), {batch, m, n}, "y"));
  const memory::desc aMd = Plain({batch, m, k}, ta ? tag::acb : tag::abc);
  const memory::desc bMd = Plain({batch, k, n}, tb ? tag::acb : tag::abc);
  const memory::desc yMd = Plain({batch, m, n}, tag::abc);
  auto &p = Cached<dnnl::matmul>(Key("matmul", {batch, m, k, n, ta, tb}), [&] {
    return dnnl::matmul(dnnl::matmul::primitive_desc(dnnl::matmul::desc(aMd, bMd, yMd), Ctx().engine));
  });
  p.execute(Ctx().stream, {{DNNL_ARG_SRC, Wrap(aMd, a)}, {DNNL_ARG_WEIGHTS, Wrap(bMd, b)}, {DNNL_ARG_DST, Wrap(yMd, y)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

}  // namespace depthfold
