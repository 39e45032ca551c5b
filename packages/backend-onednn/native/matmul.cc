// Batched MatMul (the network's head, and the GEMM peak that the benchmarks measure against) on oneDNN: in fp32,
// or with bf16 copies of both operands, f32 accumulation and an f32 result (precision.h).
#include "args.h"
#include "engine.h"
#include "kernels.h"
#include "precision.h"

namespace depthfold {
namespace {

using tag = memory::format_tag;

struct MatMulPrimitive {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul primitive;
  OperandCopy a, b;

  /** shape: batch m k n; a [batch, m, k] (or its transpose), b [batch, k, n] (or its transpose), all row-major. */
  MatMulPrimitive(const std::vector<int64_t> &s, bool ta, bool tb, Precision p)
      : pd(dnnl::matmul::desc(memory::desc({s[0], s[1], s[2]}, InputType(p), ta ? tag::acb : tag::abc),
                              memory::desc({s[0], s[2], s[3]}, InputType(p), tb ? tag::acb : tag::abc),
                              Plain({s[0], s[1], s[3]}, tag::abc)),
           Ctx().engine),
        primitive(pd),
        a(Plain({s[0], s[1], s[2]}, ta ? tag::acb : tag::abc), pd.src_desc(), kMatrixASlot),
        b(Plain({s[0], s[2], s[3]}, tb ? tag::acb : tag::abc), pd.weights_desc(), kMatrixBSlot) {}
};

}  // namespace

// matMul([batch, m, k, n], transposeA, transposeB, a, b, y, precision) -> the precision it ran in:
// y[i] = op(a[i]) op(b[i]), row-major.
Napi::Value MatMul(const Napi::CallbackInfo &info) {
  ExpectArgs(info, "matMul", 7);
  const auto s = IntsArg(info, 0, "shape", 4, 1);
  const bool ta = info[1].ToBoolean().Value();
  const bool tb = info[2].ToBoolean().Value();
  const int64_t batch = s[0], m = s[1], k = s[2], n = s[3];
  float *a = FloatsArg(info, 3, "a", ElementCount(info.Env(), {batch, m, k}, "a"));
  float *b = FloatsArg(info, 4, "b", ElementCount(info.Env(), {batch, k, n}, "b"));
  float *y = FloatsArg(info, 5, "y", ElementCount(info.Env(), {batch, m, n}, "y"));
  const Precision asked = PrecisionArg(info, 6);
  Precision ran;
  auto &p = CachedAt<MatMulPrimitive>("matmul", {batch, m, k, n, ta, tb}, asked, ran,
                                      [&](Precision q) { return MatMulPrimitive(s, ta, tb, q); });
  p.primitive.execute(Ctx().stream, {{DNNL_ARG_SRC, p.a.From(a)},
                                     {DNNL_ARG_WEIGHTS, p.b.From(b)},
                                     {DNNL_ARG_DST, Wrap(Plain({batch, m, n}, tag::abc), y)}});
  Ctx().stream.wait();
  return PrecisionValue(info.Env(), ran);
}

}  // namespace depthfold
