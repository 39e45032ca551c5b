// Element-wise kernels on oneDNN: ReLU and its gradient (dx = dy where x > 0, else 0, as tfjs's step(x) defines
// it) and |x| over flat buffers, and the four arithmetic operators with broadcasting of the second operand.
#include "args.h"
#include "engine.h"
#include "kernels.h"

namespace depthfold {
namespace {

memory::desc Flat(int64_t length) { return Plain({length}, memory::format_tag::a); }

int64_t LengthOf(const Napi::CallbackInfo &info, size_t index, const char *name) {
  Napi::Value v = info[index];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowType(info.Env(), name, "a Float32Array", Describe(v));
  }
  const auto length = static_cast<int64_t>(v.As<Napi::TypedArray>().ElementLength());
  if (length < 1 || length > kMaxElements) {
    ThrowRange(info.Env(), name, "1 to " + std::to_string(kMaxElements) + " elements", std::to_string(length));
  }
  return length;
}

struct ReluForward {
  dnnl::eltwise_forward::primitive_desc pd;
  dnnl::eltwise_forward primitive;
  explicit ReluForward(int64_t n)
      : pd(dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::eltwise_relu, Flat(n), 0.f,
                                       0.f),
           Ctx().engine),
        primitive(pd) {}
};

struct ReluBackwardPrimitive {
  dnnl::eltwise_backward::primitive_desc pd;
  dnnl::eltwise_backward primitive;
  ReluBackwardPrimitive(int64_t n, const ReluForward &hint)
      : pd(dnnl::eltwise_backward::desc(dnnl::algorithm::eltwise_relu, Flat(n), Flat(n), 0.f, 0.f), Ctx().engine,
           hint.pd),
        primitive(pd) {}
};

struct AbsForward {
  dnnl::eltwise_forward::primitive_desc pd;
  dnnl::eltwise_forward primitive;
  explicit AbsForward(int64_t n)
      : pd(dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::eltwise_abs, Flat(n), 0.f,
                                       0.f),
           Ctx().engine),
        primitive(pd) {}
};

dnnl::algorithm BinaryAlgorithm(const Napi::CallbackInfo &info, size_t index) {
  switch (IntArg(info, index, "op", 0, 3)) {
    case 0: return dnnl::algorithm::binary_add;
    case 1: return dnnl::algorithm::binary_sub;
    case 2: return dnnl::algorithm::binary_mul;
    default: return dnnl::algorithm::binary_div;
  }
}

ReluForward &CachedRelu(int64_t n) {
  return Cached<ReluForward>(Key("relu", {n}), [&] { return ReluForward(n); });
}

}  // namespace

// relu(x, y)
Napi::Value Relu(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "relu", 2);
  const int64_t n = LengthOf(info, 0, "x");
  float *x = FloatsArg(info, 0, "x", n);
  float *y = FloatsArg(info, 1, "y", n);
  CachedRelu(n).primitive.execute(Ctx().stream, {{DNNL_ARG_SRC, Wrap(Flat(n), x)}, {DNNL_ARG_DST, Wrap(Flat(n), y)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

// reluBackward(dy, x, dx)
Napi::Value ReluBackward(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "reluBackward", 3);
  const int64_t n = LengthOf(info, 0, "dy");
  float *dy = FloatsArg(info, 0, "dy", n);
  float *x = FloatsArg(info, 1, "x", n);
  float *dx = FloatsArg(info, 2, "dx", n);
  ReluForward &hint = CachedRelu(n);
  auto &b = Cached<ReluBackwardPrimitive>(Key("relu-bwd", {n}), [&] { return ReluBackwardPrimitive(n, hint); });
  b.primitive.execute(Ctx().stream, {{DNNL_ARG_SRC, Wrap(Flat(n), x)},
                                     {DNNL_ARG_DIFF_DST, Wrap(Flat(n), dy)},
                                     {DNNL_ARG_DIFF_SRC, Wrap(Flat(n), dx)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

// abs(x, y)
Napi::Value Abs(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "abs", 2);
  const int64_t n = LengthOf(info, 0, "x");
  float *x = FloatsArg(info, 0, "x", n);
  float *y = FloatsArg(info, 1, "y", n);
  auto &p = Cached<AbsForward>(Key("abs", {n}), [&] { return AbsForward(n); });
  p.primitive.execute(Ctx().stream, {{DNNL_ARG_SRC, Wrap(Flat(n), x)}, {DNNL_ARG_DST, Wrap(Flat(n), y)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

// binary(op, aShape, bShape, a, b, y): y = a op b, op 0 add, 1 sub, 2 mul, 3 div; b is broadcast along the axes
// where its extent is 1 (4-D shapes, row-major), and y has a's shape.
Napi::Value Binary(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "binary", 6);
  const dnnl::algorithm algorithm = BinaryAlgorithm(info, 0);
  const auto aShape = IntsArg(info, 1, "aShape", 4, 1);
  const auto bShape = IntsArg(info, 2, "bShape", 4, 1);
  for (size_t i = 0; i < 4; i++) {
    if (bShape[i] != aShape[i] && bShape[i] != 1) {
      ThrowRange(info.Env(), "bShape[" + std::to_string(i) + "]", "1 or " + std::to_string(aShape[i]),
                 std::to_string(bShape[i]));
    }
  }
  const int64_t count = ElementCount(info.Env(), aShape, "aShape");
  float *a = FloatsArg(info, 3, "a", count);
  float *b = FloatsArg(info, 4, "b", ElementCount(info.Env(), bShape, "bShape"));
  float *y = FloatsArg(info, 5, "y", count);
  const memory::desc aMd = Plain(aShape, memory::format_tag::abcd);
  const memory::desc bMd = Plain(bShape, memory::format_tag::abcd);
  auto &p = Cached<dnnl::binary>(Key("binary", Joined({aShape, bShape, {static_cast<int64_t>(algorithm)}})), [&] {
    return dnnl::binary(dnnl::binary::primitive_desc(dnnl::binary::desc(algorithm, aMd, bMd, aMd), Ctx().engine));
  });
  p.execute(Ctx().stream, {{DNNL_ARG_SRC_0, Wrap(aMd, a)}, {DNNL_ARG_SRC_1, Wrap(bMd, b)}, {DNNL_ARG_DST, Wrap(aMd, y)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

}  // namespace depthfold
