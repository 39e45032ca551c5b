// The KServe V2 gRPC service (inference.GRPCInferenceService, proto/grpc_predict_v2.proto) on @grpc/grpc-js:
// the six required RPCs over the same model, batcher, limits and validation as the REST side, with the
// protocol's status codes: INVALID_ARGUMENT for bad input, NOT_FOUND for an unknown model or version,
// RESOURCE_EXHAUSTED for a full queue or an oversized message, UNAVAILABLE while not ready or shutting down (mapped
// from the server's one vocabulary of errors in errors.ts).
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
import { decodeGrpcInferRequest, encodeGrpcInferResponse, type ModelInferRequest } from './grpc-messages.js';
import { assertFiniteLogits } from './infer-request.js';
import { assertServes, modelMetadataResponse } from './model-spec.js';
import type { ServerMetadata } from './protocol.js';
import type { ServedModel } from './served-model.js';
import type { ServerStatistics } from './statistics.js';

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
  /** Where each ModelInfer's outcome is counted. */
  readonly statistics: ServerStatistics;
  /** True once the server is shutting down: new calls get UNAVAILABLE. */
  readonly draining: () => boolean;
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

/**
 * Starts the gRPC service for `model`.
 * @throws the bind error (e.g. the port is taken).
 */
export async function startGrpcService(model: ServedModel, options: GrpcOptions): Promise<GrpcService> {
  const { spec } = model;
  const metadata = modelMetadataResponse(spec);
  let active = 0;
  const server = new Server({ 'grpc.max_receive_message_length': options.maxMessageBytes });

  // gRPC's empty version is REST's absent one.
  const findModel = (name: string, version: string): void =>
    assertServes(spec, name, version === '' ? undefined : version);
  const ready = (): boolean => !options.draining() && model.ready;

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

  const implementation: UntypedServiceImplementation = {
    ServerLive: unary(() => ({ live: true })),
    ServerReady: unary(() => ({ ready: ready() })),
    ModelReady: unary((r: { name: string; version: string }) => {
      findModel(r.name, r.version);
      return { ready: ready() };
    }),
    ServerMetadata: unary(() => options.serverMetadata),
    ModelMetadata: unary((r: { name: string; version: string }) => {
      findModel(r.name, r.version);
      const { name, versions, platform, inputs, outputs } = metadata;
      return { name, versions, platform, inputs, outputs };
    }),
    ModelInfer: unary(async (r: ModelInferRequest) => {
      const started = performance.now();
      try {
        const reply = await modelInfer(r);
        options.statistics.outcome('grpc', 'success', performance.now() - started);
        return reply;
      } catch (error) {
        options.statistics.outcome('grpc', outcomeOf(error), performance.now() - started);
        throw error;
      }
    }),
  };
  const modelInfer = async (r: ModelInferRequest): Promise<ReturnType<typeof encodeGrpcInferResponse>> => {
    findModel(r.model_name, r.model_version);
    if (options.draining()) throw shuttingDownError();
    if (!model.ready) throw notReadyError(spec.name);
    const request = decodeGrpcInferRequest(r, spec);
    const logits = await model.infer(request.input, request.rows);
    assertFiniteLogits(logits, spec.labels.length);
    return encodeGrpcInferResponse(spec, request, logits);
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
