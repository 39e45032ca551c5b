// The optimizer's step for one parameter, SGD with Nesterov momentum and L2 weight decay in PyTorch's formulation
// and train's order: g' = g + wd*w, v = mu*v + g', w = w - lr*(g' + mu*v). A loop over the buffers, on every
// OpenMP thread: no oneDNN primitive does this, and in JS it took a quarter of a ResNet-50 step (25M parameters).
// Every operation is rounded to float as the tfjs ops it replaces round (binding.gyp turns off FMA contraction).
#include "args.h"
#include "kernels.h"

namespace depthfold {

// sgdNesterov(w, g, v | null, learningRate, momentum, weightDecay, wOut, vOut)
Napi::Value SgdNesterov(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "sgdNesterov", 8);
  Napi::Value wv = info[0];
  if (!wv.IsTypedArray() || wv.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    ThrowType(info.Env(), "w", "a Float32Array", Describe(wv));
  }
  const auto n = static_cast<int64_t>(wv.As<Napi::TypedArray>().ElementLength());
  if (n < 1 || n > kMaxElements) {
    ThrowRange(info.Env(), "w", "1 to " + std::to_string(kMaxElements) + " elements", std::to_string(n));
  }
  const float *w = FloatsArg(info, 0, "w", n);
  const float *g = FloatsArg(info, 1, "g", n);
  const float *v = info[2].IsNull() ? nullptr : FloatsArg(info, 2, "v", n);
  const float lr = FloatArg(info, 3, "learningRate");
  const float mu = FloatArg(info, 4, "momentum");
  const float wd = FloatArg(info, 5, "weightDecay");
  float *wOut = FloatsArg(info, 6, "wOut", n);
  float *vOut = FloatsArg(info, 7, "vOut", n);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; i++) {
    const float gi = wd > 0 ? g[i] + w[i] * wd : g[i];
    const float vi = v ? v[i] * mu + gi : gi;
    vOut[i] = vi;
    wOut[i] = w[i] - (gi + vi * mu) * lr;
  }
  return info.Env().Undefined();
}

}  // namespace depthfold
