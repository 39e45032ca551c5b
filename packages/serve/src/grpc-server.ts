// The KServe V2 gRPC service (inference.GRPCInferenceService, proto/grpc_predict_v2.proto) on @grpc/grpc-js:
// the six required RPCs and Triton's ModelConfig, ModelStatistics and repository RPCs over the same repository,
// batchers, limits and validation as the REST side, with the protocol's status codes: INVALID_ARGUMENT for bad input,
// NOT_FOUND for an unknown model or version, RESOURCE_EXHAUSTED for a full queue, an oversized message (compressed
// or not: grpc-js bounds what gzip and deflate messages decompress to) or a load over the budget, UNAVAILABLE while
// not ready or shutting down (mapped from the server's one vocabulary of errors in errors.ts). grpc-js decodes
// requests compressed with gzip or deflate; its server sends replies uncompressed.
import { fileURLToPath } from 'node:url';
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { grpcReplyOf, notReadyError, outcomeOf, shuttingDownError } from './errors.js';
import {
  decodeGrpcInferRequest,
  encodeGrpcInferResponse,
  type InferParameter,
  type ModelInferRequest,
  parametersOf,
} from './grpc-messages.js';
import type { ImageDecoder } from './image-decoder.js';
import { assertFiniteLogits, prepareRequest } from './infer-request.js';
import { checkControlParameters, type ModelRepository } from './model-repository.js';
import type { ServerMetadata } from './protocol.js';
import type { StatTarget } from './statistics.js';

/** The service's .proto, shipped beside src/ and dist/ (both one level below the package root). */
export const PROTO_PATH = fileURLToPath(new URL('../proto/grpc_predict_v2.proto', import.meta.url));

/** Where the gRPC service listens and what it accepts. */
export interface GrpcOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** The largest request message; larger ones are refused with RESOURCE_EXHAUSTED (the REST body limit). */
  readonly maxMessageBytes: number;
  readonly serverMetadata: ServerMetadata;
  /** True once the server is shutting down: new calls get UNAVAILABLE. */
  readonly draining: () => boolean;
  /** Decodes the images of BYTES inputs (the REST side's, shared). */
  readonly images: ImageDecoder;
}

/** A running gRPC service. */
export interface GrpcService {
  readonly port: number;
  /** Calls being handled now. */
  readonly inflight: number;
  /** Waits for the calls in flight (up to `timeoutMs`, then cancels them) and stops; resolves true when none was cut. */
  shutdown(timeoutMs: number): Promise<boolean>;
}

let definition: ServiceDefinition | undefined;

/** The service definition, loaded once from {@link PROTO_PATH}. */
export function serviceDefinition(): ServiceDefinition {
  // keepCase: the protocol's snake_case names; longs as numbers (int64 shapes and parameters are small); oneofs
  // named, so that an InferParameter says which value it holds.
  definition ??= loadSync(PROTO_PATH, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true })[
    'inference.GRPCInferenceService'
  ] as ServiceDefinition;
  return definition;
}

// gRPC's empty version (or name, for statistics) is REST's absent one.
const optional = (value: string): string | undefined => (value === '' ? undefined : value);

interface Named {
  name: string;
  version: string;
}

interface ControlRequest {
  model_name: string;
  parameters: Record<string, InferParameter>;
}

/**
 * Starts the gRPC service for the models of `repository`.
 * @throws the bind error (e.g. the port is taken).
 */
export async function startGrpcService(repository: ModelRepository, options: GrpcOptions): Promise<GrpcService> {
  const { statistics } = repository;
  let active = 0;
  const server = new Server({ 'grpc.max_receive_message_length': options.maxMessageBytes });
  const ready = (): boolean => !options.draining() && repository.healthy;
  const notDraining = (): void => {
    if (options.draining()) throw shuttingDownError();
  };

  // Every handler: counted while it runs, and any failure turned into the protocol's status.
  const unary =
    <Req, Res>(handle: (request: Req) => Res | Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      active++;
      Promise.resolve()
        .then(() => handle(call.request))
        .then(
          (response) => callback(null, response),
          (error: unknown) => {
            const { code, details } = grpcReplyOf(error);
            callback({ code, details });
          },
        )
        .finally(() => active--);
    };

  const control = (load: boolean) => async (r: ControlRequest) => {
    notDraining();
    checkControlParameters(parametersOf(r.parameters), load);
    await (load ? repository.load(r.model_name) : repository.unload(r.model_name));
    return {};
  };

  const implementation: UntypedServiceImplementation = {
    ServerLive: unary(() => ({ live: true })),
    ServerReady: unary(() => ({ ready: ready() })),
    ModelReady: unary((r: Named) => {
      const model = repository.model(r.name, optional(r.version));
      return { ready: !options.draining() && model.ready };
    }),
    ServerMetadata: unary(() => options.serverMetadata),
    ModelMetadata: unary((r: Named) => {
      const { name, versions, platform, inputs, outputs } = repository.metadata(r.name, optional(r.version));
      return { name, versions, platform, inputs, outputs };
    }),
    ModelConfig: unary((r: Named) => ({ config: repository.config(r.name, optional(r.version)) })),
    ModelStatistics: unary((r: Named) => statistics.modelStats(optional(r.name), optional(r.version))),
    RepositoryIndex: unary(async (r: { ready: boolean }) => ({
      models: (await repository.index(r.ready)).map((e) => ({ ...e, version: e.version ?? '' })),
    })),
    RepositoryModelLoad: unary(control(true)),
    RepositoryModelUnload: unary(control(false)),
    ModelInfer: unary(async (r: ModelInferRequest) => {
      const started = performance.now();
      let target: StatTarget | undefined;
      try {
        notDraining();
        const lease = repository.acquire(r.model_name, optional(r.model_version));
        target = lease.model.spec;
        try {
          const model = lease.model;
          if (!model.ready) throw notReadyError(model.spec.name);
          const request = await prepareRequest(decodeGrpcInferRequest(r, model.spec), model.spec, options.images);
          const logits = await model.infer(request.input, request.rows);
          assertFiniteLogits(logits, model.spec.labels.length);
          const reply = encodeGrpcInferResponse(model.spec, request, logits);
          statistics.outcome('grpc', 'success', performance.now() - started, target);
          return reply;
        } finally {
          lease.release();
        }
      } catch (error) {
        statistics.outcome('grpc', outcomeOf(error), performance.now() - started, target);
        throw error;
      }
    }),
  };
  server.addService(serviceDefinition(), implementation);

  const port = await new Promise<number>((resolve, reject) => {
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    server.bindAsync(`${host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });

  return {
    port,
    get inflight() {
      return active;
    },
    shutdown(timeoutMs) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve(false);
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    },
  };
}
