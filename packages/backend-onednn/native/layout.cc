// Kernels that move data rather than compute: zero padding and slicing (a reorder into or out of a sub-block), and
// the mean or sum over axes (a bias gradient). All on plain row-major 4-D tensors.
#include <algorithm>

#include "args.h"
#include "engine.h"
#include "kernels.h"

namespace depthfold {
namespace {

using tag = memory::format_tag;

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

}  // namespace depthfold
