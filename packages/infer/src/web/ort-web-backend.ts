// The web backend: models fetched by URL (or given as bytes), sessions run by onnxruntime-web. Each provider has its
// own ORT build, imported on first use so that a page downloads only what it runs: `onnxruntime-web/wasm`
// (WebAssembly alone) for wasm, `onnxruntime-web/webgpu` for WebGPU (its WebAssembly part, built with asyncify for
// the GPU calls, runs CPU kernels 2-3x slower, so the wasm device never uses it).
import type * as Ort from 'onnxruntime-web';
import type { InferenceBackend, ModelSession, ModelSource, TensorData } from '../common/backend.js';
import type { ExecutionProvider } from '../common/device.js';
import { InferInputError, ProviderUnavailableError, reasonOf } from '../common/errors.js';
import { webEnvironment } from './environment.js';
import { webImageReader } from './image-reader.js';

type OrtWeb = typeof Ort;

/** `navigator.gpu` as far as the probe needs it; the DOM typings of TypeScript 5.9 lack WebGPU. */
interface GpuProbe {
  requestAdapter(): Promise<unknown>;
}

const runtimes = new Map<ExecutionProvider, Promise<OrtWeb>>();

// numThreads is read when the build first initialises its WebAssembly, so it is set before any session exists.
function runtimeFor(provider: ExecutionProvider): Promise<OrtWeb> {
  let runtime = runtimes.get(provider);
  if (runtime === undefined) {
    const imported: Promise<OrtWeb> =
      provider === 'webgpu' ? import('onnxruntime-web/webgpu') : import('onnxruntime-web/wasm');
    runtime = imported.then((ort) => {
      ort.env.wasm.numThreads = webEnvironment().wasmThreads;
      return ort;
    });
    // A failed download (offline, blocked) may succeed on a later load.
    runtime.catch(() => runtimes.delete(provider));
    runtimes.set(provider, runtime);
  }
  return runtime;
}

// Asking for an adapter first costs a few milliseconds and spares a browser without one the WebGPU build's download.
async function probeWebGpu(): Promise<void> {
  if (!webEnvironment().webgpu)
    throw new ProviderUnavailableError('WebGPU is not available here (navigator.gpu is undefined)');
  const gpu = (navigator as Navigator & { gpu: GpuProbe }).gpu;
  const adapter = await gpu.requestAdapter();
  if (adapter === null || adapter === undefined) {
    throw new ProviderUnavailableError(
      'navigator.gpu.requestAdapter() gave no adapter (WebGPU is disabled or unsupported on this GPU)',
    );
  }
}

async function readModel(model: string | Uint8Array): Promise<ModelSource> {
  if (model instanceof Uint8Array) return { bytes: model, source: '(model bytes)' };
  const expected = 'a URL that serves an .onnx file';
  let response: Response;
  try {
    response = await fetch(model);
  } catch (error) {
    throw new InferInputError('model', expected, `${model}: ${reasonOf(error)}`);
  }
  if (!response.ok)
    throw new InferInputError('model', expected, `${model}: HTTP ${response.status} ${response.statusText}`.trim());
  return { bytes: new Uint8Array(await response.arrayBuffer()), source: model };
}

function wrap(ort: OrtWeb, session: Ort.InferenceSession): ModelSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    // ORT settles the thread count when it initialises (1 on a page that is not cross-origin isolated).
    wasmThreads: ort.env.wasm.numThreads ?? 1,
    async run(inputName: string, input: TensorData, outputName: string): Promise<TensorData> {
      const outputs = await session.run({ [inputName]: new ort.Tensor('float32', input.data, input.dims) }, [
        outputName,
      ]);
      const output = outputs[outputName];
      if (!output || !(output.data instanceof Float32Array)) {
        throw new InferInputError(
          `output ${JSON.stringify(outputName)}`,
          'a float32 tensor',
          output ? output.type : undefined,
          'model',
        );
      }
      return { data: output.data, dims: output.dims };
    },
    release: () => session.release(),
  };
}

/** onnxruntime-web as an {@link InferenceBackend}: WebGPU and WebAssembly. */
export const ortWebBackend: InferenceBackend = Object.freeze({
  platform: 'web',
  images: webImageReader,
  readModel,
  async createSession(bytes: Uint8Array, provider: ExecutionProvider): Promise<ModelSession> {
    if (provider === 'webgpu') await probeWebGpu();
    // A runtime that did not download says nothing about the model; load must not blame the model for it.
    const ort = await runtimeFor(provider).catch((error: unknown) => {
      throw new ProviderUnavailableError(`onnxruntime-web for ${provider} did not load: ${reasonOf(error)}`, {
        cause: error,
      });
    });
    return wrap(ort, await ort.InferenceSession.create(bytes, { executionProviders: [provider] }));
  },
  supportedProviders: () => (webEnvironment().webgpu ? ['webgpu', 'wasm'] : ['wasm']),
});
