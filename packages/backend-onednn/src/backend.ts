// The onednn backend: the cpu backend's tensor storage (plain Float32Arrays in JS memory), so that every cpu
// kernel runs on it unchanged; a pool of the native kernels' output buffers; and a count of the native kernel
// calls (tests check that a dropped block runs none).
import type { DataType, TensorInfo, backend_util } from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { OnednnBinding } from './native.js';

/** The name the backend registers under. */
export const ONEDNN_BACKEND_NAME = 'onednn';

/**
 * Most bytes of released output buffers the pool keeps for reuse: a ResNet-56 step at batch 128 needs ~1.5 GiB of
 * them, and a cap of 1 GiB left it 30% slower (measured); the pool holds what the step used, not the cap.
 */
const POOL_LIMIT_BYTES = 3 * (1 << 30);

type DataId = object;

/** A tfjs backend whose hot kernels run in oneDNN; every other kernel is the cpu backend's. */
export class MathBackendOnednn extends MathBackendCPU {
  /** Calls of each native kernel, by kernel name, since the backend started or the counts were reset. */
  readonly nativeCalls = new Map<string, number>();
  /**
   * Native calls asked to run in bf16, by kernel name: how many ran in bf16, and how many in fp32 because oneDNN
   * had no bf16 implementation of their shape. Reset with {@link nativeCalls}.
   */
  readonly bf16Calls = new Map<string, { bf16: number; fp32: number }>();
  /** Released output buffers by length. */
  private readonly pool = new Map<number, Float32Array[]>();
  private pooledBytes = 0;
  /**
   * Buffers of native outputs that nothing but their own tensor has seen. A fresh ArrayBuffer costs more than
   * most kernels (its pages are zeroed and faulted in on first write: ~3 ms for 6.4 MB against 0.8 ms for a batch
   * norm over it), so a released one is reused; but only if no view of it (a cpu kernel's subarray, a dataSync()
   * result) can outlive its tensor.
   */
  private readonly private = new WeakSet<ArrayBuffer>();

  constructor(readonly native: OnednnBinding) {
    super();
    // The cpu backend advises installing tfjs-node on its first write in Node; that advice is wrong for a native
    // backend, and it would be printed at every start.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** Records one native call of `kernelName`. */
  countCall(kernelName: string): void {
    this.nativeCalls.set(kernelName, (this.nativeCalls.get(kernelName) ?? 0) + 1);
  }

  /** Records how one native call that was asked to run in bf16 ran. */
  countBf16Call(kernelName: string, ranInBf16: boolean): void {
    const counts = this.bf16Calls.get(kernelName) ?? { bf16: 0, fp32: 0 };
    if (ranInBf16) counts.bf16++;
    else counts.fp32++;
    this.bf16Calls.set(kernelName, counts);
  }

  /**
   * A float32 tensor of `shape` and the buffer the native kernel must fill, every element of it: a reused buffer
   * holds stale values.
   */
  allocateOutput(shape: number[]): { info: TensorInfo; values: Float32Array } {
    const length = shape.reduce((a, b) => a * b, 1);
    const reused = this.pool.get(length)?.pop();
    if (reused) this.pooledBytes -= reused.byteLength;
    const values = reused ?? new Float32Array(length);
    const info = this.makeTensorInfo(shape, 'float32', values);
    this.private.add(values.buffer as ArrayBuffer);
    return { info, values };
  }

  override write(values: backend_util.BackendValues, shape: number[], dtype: DataType): DataId {
    this.escape(values);
    return super.write(values, shape, dtype);
  }

  override move(
    dataId: DataId,
    values: backend_util.BackendValues,
    shape: number[],
    dtype: DataType,
    refCount: number,
  ): void {
    this.escape(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: DataId): backend_util.BackendValues {
    const values = super.readSync(dataId);
    this.escape(values);
    return values;
  }

  override disposeData(dataId: DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (released && values instanceof Float32Array && !this.data.has(dataId)) this.recycle(values);
    return released;
  }

  override dispose(): void {
    this.pool.clear();
    this.pooledBytes = 0;
    super.dispose();
  }

  /** Takes back a released buffer that no view can reach. */
  private recycle(values: Float32Array): void {
    const buffer = values.buffer as ArrayBuffer;
    if (!this.private.has(buffer) || values.byteOffset !== 0 || values.byteLength !== buffer.byteLength) return;
    this.private.delete(buffer);
    if (this.pooledBytes + buffer.byteLength > POOL_LIMIT_BYTES) return;
    const list = this.pool.get(values.length) ?? [];
    list.push(values);
    this.pool.set(values.length, list);
    this.pooledBytes += buffer.byteLength;
  }

  /** A buffer seen outside its tensor (a view, a read) is never reused. */
  private escape(values: backend_util.BackendValues | undefined): void {
    if (values && ArrayBuffer.isView(values)) this.private.delete(values.buffer as ArrayBuffer);
  }
}
