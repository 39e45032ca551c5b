// Batch normalisation on oneDNN over axes N, H, W of an NHWC tensor: y = gamma * (x - mean) / sqrt(var + eps) + beta.
// In training, with the batch's mean and biased variance; the backward pass takes x and the statistics again
// (nothing else is saved) and gives dx, dgamma and dbeta. At test time, with given (running) statistics.
#include <cstring>

#include "args.h"
#include "engine.h"
#include "kernels.h"

namespace depthfold {
namespace {

const auto kFlags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;

struct NormShape {
  std::vector<int64_t> v;  // n h w c, and the bits of epsilon (part of the primitive)
  Dims dims() const { return {v[0], v[3], v[1], v[2]}; }
  int64_t count() const { return v[0] * v[1] * v[2] * v[3]; }
  int64_t channels() const { return v[3]; }
};

NormShape ParseShape(const Napi::CallbackInfo &info, size_t index, float epsilon) {
  NormShape s{IntsArg(info, index, "shape", 4, 1)};
  ElementCount(info.Env(), s.v, "shape");
  uint32_t bits;
  std::memcpy(&bits, &epsilon, sizeof bits);
  s.v.push_back(bits);
  return s;
}

memory::desc Data(const NormShape &s) { return Plain(s.dims(), memory::format_tag::nhwc); }
memory::desc PerChannel(const NormShape &s) { return Plain({s.channels()}, memory::format_tag::a); }

// Training computes the batch's mean and variance and writes them; inference (use_global_stats) reads them.
struct Forward {
  dnnl::batch_normalization_forward::primitive_desc pd;
  dnnl::batch_normalization_forward primitive;
  Forward(const NormShape &s, float epsilon, bool training)
      : pd(dnnl::batch_normalization_forward::desc(
               training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference, Data(s), epsilon,
               training ? kFlags : kFlags | dnnl::normalization_flags::use_global_stats),
           Ctx().engine),
        primitive(pd) {}
};

struct Backward {
  dnnl::batch_normalization_backward::primitive_desc pd;
  dnnl::batch_normalization_backward primitive;
  // oneDNN 2.6 asks for the shift in the backward pass too, though no gradient depends on it.
  memory unusedShift;
  Backward(const NormShape &s, float epsilon, const Forward &hint)
      : pd(dnnl::batch_normalization_backward::desc(dnnl::prop_kind::backward, Data(s), Data(s), epsilon, kFlags),
           Ctx().engine, hint.pd),
        primitive(pd),
        unusedShift(PerChannel(s), Ctx().engine) {
    std::memset(unusedShift.get_data_handle(), 0, static_cast<size_t>(s.channels()) * sizeof(float));
  }
};

float EpsilonArg(const Napi::CallbackInfo &info, size_t index) {
  const float epsilon = FloatArg(info, index, "epsilon");
  if (!(epsilon > 0)) ThrowRange(info.Env(), "epsilon", "a positive number", Describe(info[index]));
  return epsilon;
}

Forward &CachedForward(const NormShape &s, float epsilon, bool training) {
  return Cached<Forward>(Key(training ? "bn" : "bn-inf", s.v), [&] { return Forward(s, epsilon, training); });
}

// (shape [n,h,w,c], epsilon, x, gamma, beta, y, mean, variance): the two forward entry points share their arguments.
Napi::Value RunForward(const Napi::CallbackInfo &info, const char *name, bool training) {
  ExpectArgs(info, name, 8);
  const float epsilon = EpsilonArg(info, 1);
  const NormShape s = ParseShape(info, 0, epsilon);
  const int64_t c = s.channels();
  float *x = FloatsArg(info, 2, "x", s.count());
  float *gamma = FloatsArg(info, 3, "gamma", c);
  float *beta = FloatsArg(info, 4, "beta", c);
  float *y = FloatsArg(info, 5, "y", s.count());
  float *mean = FloatsArg(info, 6, "mean", c);
  float *variance = FloatsArg(info, 7, "variance", c);
  Forward &f = CachedForward(s, epsilon, training);
  f.primitive.execute(Ctx().stream, {{DNNL_ARG_SRC, Wrap(Data(s), x)},
                                     {DNNL_ARG_SCALE, Wrap(PerChannel(s), gamma)},
                                     {DNNL_ARG_SHIFT, Wrap(PerChannel(s), beta)},
                                     {DNNL_ARG_DST, Wrap(Data(s), y)},
                                     {DNNL_ARG_MEAN, Wrap(PerChannel(s), mean)},
                                     {DNNL_ARG_VARIANCE, Wrap(PerChannel(s), variance)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

}  // namespace

// batchNormForward(shape [n,h,w,c], epsilon, x, gamma, beta, y, mean, variance): writes y, mean and variance.
Napi::Value BatchNormForward(const Napi::CallbackInfo &info) { return RunForward(info, "batchNormForward", true); }

// batchNormInference(shape [n,h,w,c], epsilon, x, gamma, beta, y, mean, variance): reads mean and variance.
Napi::Value BatchNormInference(const Napi::CallbackInfo &info) {
  return RunForward(info, "batchNormInference", false);
}

// batchNormBackward(shape [n,h,w,c], epsilon, x, dy, mean, variance, gamma, dx, dgamma, dbeta)
Napi::Value BatchNormBackward(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "batchNormBackward", 10);
  const float epsilon = EpsilonArg(info, 1);
  const NormShape s = ParseShape(info, 0, epsilon);
  const int64_t c = s.channels();
  float *x = FloatsArg(info, 2, "x", s.count());
  float *dy = FloatsArg(info, 3, "dy", s.count());
  float *mean = FloatsArg(info, 4, "mean", c);
  float *variance = FloatsArg(info, 5, "variance", c);
  float *gamma = FloatsArg(info, 6, "gamma", c);
  float *dx = FloatsArg(info, 7, "dx", s.count());
  float *dgamma = FloatsArg(info, 8, "dgamma", c);
  float *dbeta = FloatsArg(info, 9, "dbeta", c);
  Forward &hint = CachedForward(s, epsilon, true);
  Backward &b = Cached<Backward>(Key("bn-bwd", s.v), [&] { return Backward(s, epsilon, hint); });
  b.primitive.execute(Ctx().stream, {{DNNL_ARG_SRC, Wrap(Data(s), x)},
                                     {DNNL_ARG_DIFF_DST, Wrap(Data(s), dy)},
                                     {DNNL_ARG_MEAN, Wrap(PerChannel(s), mean)},
                                     {DNNL_ARG_VARIANCE, Wrap(PerChannel(s), variance)},
                                     {DNNL_ARG_SCALE, Wrap(PerChannel(s), gamma)},
                                     {DNNL_ARG_SHIFT, b.unusedShift},
                                     {DNNL_ARG_DIFF_SRC, Wrap(Data(s), dx)},
                                     {DNNL_ARG_DIFF_SCALE, Wrap(PerChannel(s), dgamma)},
                                     {DNNL_ARG_DIFF_SHIFT, Wrap(PerChannel(s), dbeta)}});
  Ctx().stream.wait();
  return info.Env().Undefined();
}

}  // namespace depthfold
