// The Node backend: model files read with node:fs, sessions run by onnxruntime-node (cpu, cuda and webgpu
// execution providers, whichever this install has), images decoded by @depthfold/images/node.
import { readFile } from 'node:fs/promises';
import { InferenceSession, listSupportedBackends, Tensor } from 'onnxruntime-node';
import type { InferenceBackend, ModelSession, ModelSource, SessionOptions, TensorData } from '../common/backend.js';
import type { ExecutionProvider } from '../common/device.js';
import { InferInputError, reasonOf } from '../common/errors.js';
import { nodeImageReader } from './image-reader.js';

const CUDA_HINT =
  'npm ships onnxruntime-node without its CUDA provider: `pnpm setup:cuda` fetches it, and it needs the CUDA libraries it was built for';

async function readModel(model: string | Uint8Array): Promise<ModelSource> {
  if (model instanceof Uint8Array) return { bytes: model, source: '(model bytes)' };
  try {
    return { bytes: await readFile(model), source: model };
  } catch (error) {
    throw new InferInputError('model', 'a readable .onnx file', reasonOf(error));
  }
}

function wrap(session: InferenceSession): ModelSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(inputName: string, input: TensorData, outputName: string): Promise<TensorData> {
      const outputs = await session.run({ [inputName]: new Tensor('float32', input.data, input.dims) }, [outputName]);
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

/** onnxruntime-node as an {@link InferenceBackend}. */
export const ortNodeBackend: InferenceBackend = Object.freeze({
  platform: 'node',
  images: nodeImageReader,
  readModel,
  async createSession(
    bytes: Uint8Array,
    provider: ExecutionProvider,
    options: SessionOptions = {},
  ): Promise<ModelSession> {
    const { threads = 0, graphOptimizationLevel, spinWait } = options;
    try {
      return wrap(
        await InferenceSession.create(bytes, {
          executionProviders: [provider],
          // Left out rather than passed as defaults: ORT's own defaults then apply, as they always did for `load`.
          ...(graphOptimizationLevel === undefined ? {} : { graphOptimizationLevel }),
          ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
          ...(spinWait === undefined
            ? {}
            : { extra: { session: { intra_op: { allow_spinning: spinWait ? '1' : '0' } } } }),
        }),
      );
    } catch (error) {
      // ORT's own message ("Failed to load shared library") does not say that npm never ships these libraries.
      if (provider === 'cuda') throw new Error(`${reasonOf(error)} (${CUDA_HINT})`, { cause: error });
      throw error;
    }
  },
  supportedProviders: () => listSupportedBackends().map((b) => b.name),
});
