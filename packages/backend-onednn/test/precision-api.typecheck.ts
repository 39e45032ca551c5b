// Type tests of the precision API, checked by `tsc --noEmit` (never run): each @ts-expect-error line must stay an error.
import {
  bf16CallCounts,
  gemmPeak,
  ONEDNN_PRECISIONS,
  type OnednnInfo,
  type OnednnPrecision,
  onednnBf16Support,
  registerOnednnBackend,
  setOnednnPrecision,
} from '../src/index.js';

export function precisionApi(): void {
  const all: readonly OnednnPrecision[] = ONEDNN_PRECISIONS;
  setOnednnPrecision('bf16');
  // @ts-expect-error: fp16 is no precision of this backend
  setOnednnPrecision('fp16');
  // @ts-expect-error: the list is read-only
  ONEDNN_PRECISIONS.push('fp16');
  const info: OnednnInfo = registerOnednnBackend({ threads: 2, precision: 'fp32' });
  const precision: OnednnPrecision = info.precision;
  // @ts-expect-error: the option takes a precision's name
  registerOnednnBackend({ precision: 1 });
  const support = onednnBf16Support();
  if (support.supported) {
    // @ts-expect-error: a supported bf16 has no reason
    void support.reason;
  } else {
    const reason: string = support.reason;
    void reason;
  }
  const isa: string = support.isa;
  const flops: number = gemmPeak('bf16', 1024);
  // @ts-expect-error: the peak is measured at a precision
  gemmPeak(1024);
  const calls: number | undefined = bf16CallCounts().get('Conv2D')?.fp32;
  void [all, precision, isa, flops, calls];
}
