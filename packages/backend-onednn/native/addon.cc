// The module: registers the kernels, and reports the library's version, its instruction set and its threads.
// Every entry point turns a oneDNN error into a JS Error carrying the library's message.
#include <omp.h>

#include "args.h"
#include "engine.h"
#include "kernels.h"

namespace depthfold {
namespace {

using Entry = Napi::Value (*)(const Napi::CallbackInfo &);

template <Entry F>
Napi::Value Guarded(const Napi::CallbackInfo &info) {
  try {
    return F(info);
  } catch (const dnnl::error &e) {
    throw Napi::Error::New(info.Env(), std::string("oneDNN: ") + e.what() + " (status " + std::to_string(e.status) + ")");
  } catch (const std::bad_alloc &) {
    throw Napi::Error::New(info.Env(), "oneDNN: out of memory");
  }
}

const char *IsaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

// info() -> { version, isa, threads }
Napi::Value Info(const Napi::CallbackInfo &info) {
  const dnnl_version_t *v = dnnl_version();
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("version", std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch));
  out.Set("isa", IsaName(dnnl::get_effective_cpu_isa()));
  out.Set("threads", omp_get_max_threads());
  return out;
}

// setThreads(n): the OpenMP threads of every later kernel.
Napi::Value SetThreads(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "setThreads", 1);
  omp_set_num_threads(static_cast<int>(IntArg(info, 0, "threads", 1, 1024)));
  return info.Env().Undefined();
}

template <Entry F>
void Export(Napi::Env env, Napi::Object exports, const char *name) {
  exports.Set(name, Napi::Function::New(env, Guarded<F>, name));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Export<Info>(env, exports, "info");
  Export<SetThreads>(env, exports, "setThreads");
  Export<Conv2dForward>(env, exports, "conv2dForward");
  Export<Conv2dBackwardData>(env, exports, "conv2dBackwardData");
  Export<Conv2dBackwardWeights>(env, exports, "conv2dBackwardWeights");
  Export<BatchNormForward>(env, exports, "batchNormForward");
  Export<BatchNormInference>(env, exports, "batchNormInference");
  Export<BatchNormBackward>(env, exports, "batchNormBackward");
  Export<Relu>(env, exports, "relu");
  Export<ReluBackward>(env, exports, "reluBackward");
  Export<Binary>(env, exports, "binary");
  Export<AvgPoolForward>(env, exports, "avgPoolForward");
  Export<AvgPoolBackward>(env, exports, "avgPoolBackward");
  Export<MaxPoolForward>(env, exports, "maxPoolForward");
  Export<MaxPoolBackward>(env, exports, "maxPoolBackward");
  Export<Pad>(env, exports, "pad");
  Export<Slice>(env, exports, "slice");
  Export<Reduce>(env, exports, "reduce");
  Export<MatMul>(env, exports, "matMul");
  Export<SgdNesterov>(env, exports, "sgdNesterov");
  Export<Abs>(env, exports, "abs");
  return exports;
}

}  // namespace
}  // namespace depthfold

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return depthfold::Init(env, exports); }

NODE_API_MODULE(depthfold_onednn, InitModule)
