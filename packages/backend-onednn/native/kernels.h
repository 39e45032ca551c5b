// The addon's entry points, one per kernel. Each checks its arguments (args.h), then runs oneDNN primitives on
// the callers' Float32Arrays in place; tensors are plain row-major (NHWC activations, HWIO filters, as tfjs keeps
// them), so nothing is converted on the way in or out but the small filters, and at bf16 the inputs of
// convolutions and matmuls (precision.h).
#pragma once

#include <napi.h>

namespace depthfold {

Napi::Value Conv2dForward(const Napi::CallbackInfo &info);
Napi::Value Conv2dBackwardData(const Napi::CallbackInfo &info);
Napi::Value Conv2dBackwardWeights(const Napi::CallbackInfo &info);
Napi::Value BatchNormForward(const Napi::CallbackInfo &info);
Napi::Value BatchNormInference(const Napi::CallbackInfo &info);
Napi::Value BatchNormBackward(const Napi::CallbackInfo &info);
Napi::Value Relu(const Napi::CallbackInfo &info);
Napi::Value ReluBackward(const Napi::CallbackInfo &info);
Napi::Value Binary(const Napi::CallbackInfo &info);
Napi::Value AvgPoolForward(const Napi::CallbackInfo &info);
Napi::Value AvgPoolBackward(const Napi::CallbackInfo &info);
Napi::Value MaxPoolForward(const Napi::CallbackInfo &info);
Napi::Value MaxPoolBackward(const Napi::CallbackInfo &info);
Napi::Value Pad(const Napi::CallbackInfo &info);
Napi::Value Slice(const Napi::CallbackInfo &info);
Napi::Value Reduce(const Napi::CallbackInfo &info);
Napi::Value MatMul(const Napi::CallbackInfo &info);
Napi::Value SgdNesterov(const Napi::CallbackInfo &info);
Napi::Value Abs(const Napi::CallbackInfo &info);

}  // namespace depthfold
