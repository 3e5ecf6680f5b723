// gRPC clients for the CRI runtime.v1 API (containerd's CRI plugin) over a unix socket.
//
// The wire contract is proto/runtime/v1/api.proto; the TypeScript types under ./generated are produced from
// it by `npm run gen:cri`. This module only connects and makes calls; the CRI runtime driver builds on it.

import { existsSync, statSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { ProtoGrpcType } from "./generated/api.ts";
import type { ImageServiceClient } from "./generated/runtime/v1/ImageService.ts";
import type { RuntimeServiceClient } from "./generated/runtime/v1/RuntimeService.ts";
import { decodeListContainersResponse, decodeListPodSandboxResponse } from "./list-decoder.ts";

export type { ImageServiceClient, RuntimeServiceClient };

/** Deadline applied to a CRI call when the caller gives none. */
export const DEFAULT_CRI_TIMEOUT_MS = 10_000;

/** kubelet's limit for CRI messages; large ListContainers/ListImages answers need more than gRPC's 4 MiB. */
const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Longest wait between reconnection attempts once the runtime went away. */
const MAX_RECONNECT_BACKOFF_MS = 3_000;

const PROTO_RELATIVE_PATH = join("proto", "runtime", "v1", "api.proto");

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

export type CriErrorCode =
  | "CRI_INVALID_ENDPOINT"
  | "CRI_UNAVAILABLE"
  | "CRI_NOT_FOUND"
  | "CRI_ALREADY_EXISTS"
  | "CRI_INVALID_ARGUMENT"
  | "CRI_UNIMPLEMENTED"
  | "CRI_DEADLINE"
  | "CRI_CANCELLED"
  | "CRI_ERROR";

const CODE_BY_GRPC_STATUS: Partial<Record<grpc.status, CriErrorCode>> = {
  [grpc.status.UNAVAILABLE]: "CRI_UNAVAILABLE",
  [grpc.status.NOT_FOUND]: "CRI_NOT_FOUND",
  [grpc.status.ALREADY_EXISTS]: "CRI_ALREADY_EXISTS",
  [grpc.status.INVALID_ARGUMENT]: "CRI_INVALID_ARGUMENT",
  [grpc.status.UNIMPLEMENTED]: "CRI_UNIMPLEMENTED",
  [grpc.status.DEADLINE_EXCEEDED]: "CRI_DEADLINE",
  [grpc.status.CANCELLED]: "CRI_CANCELLED",
};

export interface CriErrorDetails {
  /** The endpoint as given to createCriClients, normalized to `unix:///path`. */
  endpoint: string;
  /** `Service/Method`, e.g. `RuntimeService/Version`; absent for errors raised before any call. */
  method?: string;
  /** The gRPC status code, when the error came from a call. */
  grpcCode?: grpc.status;
  cause?: unknown;
}

export class CriError extends Error {
  override readonly name = "CriError";
  readonly code: CriErrorCode;
  readonly endpoint: string;
  readonly method: string | undefined;
  readonly grpcCode: grpc.status | undefined;

  constructor(code: CriErrorCode, message: string, details: CriErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.endpoint = details.endpoint;
    this.method = details.method;
    this.grpcCode = details.grpcCode;
  }
}

/** True when `err` is a CriError, and (if given) carries `code`. */
export function isCriError(err: unknown, code?: CriErrorCode): err is CriError {
  return err instanceof CriError && (code === undefined || err.code === code);
}

// ---------------------------------------------------------------------------------------------------------
// Endpoint and proto loading
// ---------------------------------------------------------------------------------------------------------

/** Accepts `unix:///abs/path` or a bare `/abs/path`; returns the socket path. */
export function parseCriEndpoint(endpoint: string): string {
  const path = endpoint.startsWith("unix://") ? endpoint.slice("unix://".length) : endpoint;
  if (!isAbsolute(path)) {
    throw new CriError(
      "CRI_INVALID_ENDPOINT",
      `CRI endpoint "${endpoint}" is not supported: give a unix socket as unix:///absolute/path or /absolute/path`,
      { endpoint },
    );
  }
  return path;
}

/** The directory holding the package's package.json, found by walking up from this module. */
function packageRoot(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) {
      throw new Error(
        `cannot find package.json in ${start} or any parent, so cannot locate ${PROTO_RELATIVE_PATH}`,
      );
    }
  }
}

let loadedProto: ProtoGrpcType | undefined;

function loadCriProto(): ProtoGrpcType {
  if (loadedProto === undefined) {
    const definition = protoLoader.loadSync(join(packageRoot(), PROTO_RELATIVE_PATH), {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    // The relist's two calls, every second: decoded without proto-loader's intermediate objects.
    const runtimeService = definition["runtime.v1.RuntimeService"] as protoLoader.ServiceDefinition;
    setResponseDecoder(runtimeService, "ListContainers", decodeListContainersResponse);
    setResponseDecoder(runtimeService, "ListPodSandbox", decodeListPodSandboxResponse);
    loadedProto = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return loadedProto;
}

function setResponseDecoder(
  service: protoLoader.ServiceDefinition,
  method: string,
  decode: (buf: Buffer) => object,
): void {
  const definition = service[method];
  if (!definition) throw new Error(`${PROTO_RELATIVE_PATH} has no method ${method}`);
  service[method] = { ...definition, responseDeserialize: decode };
}

// ---------------------------------------------------------------------------------------------------------
// Clients
// ---------------------------------------------------------------------------------------------------------

export interface CriClientOptions {
  /** Largest message accepted from the runtime. Default 16 MiB, as kubelet. */
  maxReceiveMessageBytes?: number;
}

export interface CriClients {
  /** `unix:///path` form of the endpoint. */
  readonly endpoint: string;
  readonly runtime: RuntimeServiceClient;
  readonly image: ImageServiceClient;
  /** Closes the shared connection; calls in flight fail with CRI_CANCELLED or CRI_UNAVAILABLE. */
  close(): void;
}

/**
 * Creates RuntimeService and ImageService clients sharing one connection to `endpoint`. Nothing is dialled
 * until the first call, so a runtime that is not up yet shows as a CriError from that call.
 */
export function createCriClients(endpoint: string, opts: CriClientOptions = {}): CriClients {
  const socketPath = parseCriEndpoint(endpoint);
  const target = `unix://${socketPath}`;
  const proto = loadCriProto().runtime.v1;
  const runtime = new proto.RuntimeService(target, grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": opts.maxReceiveMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": DEFAULT_MAX_MESSAGE_BYTES,
    // After the runtime restarts, reconnect within seconds: grpc's default backoff grows to two minutes,
    // during which every call fails with UNAVAILABLE. kubelet caps it at 3 s for the same reason.
    "grpc.initial_reconnect_backoff_ms": 500,
    "grpc.max_reconnect_backoff_ms": MAX_RECONNECT_BACKOFF_MS,
  });
  const image = new proto.ImageService(target, grpc.credentials.createInsecure(), {
    channelOverride: runtime.getChannel(),
  });
  return {
    endpoint: target,
    runtime,
    image,
    close() {
      runtime.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Calls
// ---------------------------------------------------------------------------------------------------------

/**
 * Every generated unary method ends with the overload `(argument, callback)`; conditional types infer from
 * the last overload, which is how the request and response types are picked out here.
 */
type UnaryShape<Req, Res> = (argument: Req, callback: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;

export type UnaryMethodName<C> = {
  [K in keyof C]: K extends string ? (C[K] extends UnaryShape<infer _Req, infer _Res> ? K : never) : never;
}[keyof C];
export type RequestOf<C, M extends keyof C> = C[M] extends UnaryShape<infer Req, infer _Res> ? Req : never;
export type ResponseOf<C, M extends keyof C> = C[M] extends UnaryShape<infer _Req, infer Res> ? Res : never;

export interface CallOptions {
  /** Deadline for this call in milliseconds. Default DEFAULT_CRI_TIMEOUT_MS (10 s). */
  timeoutMs?: number;
  /** Cancels the call; it then rejects with CRI_CANCELLED. */
  signal?: AbortSignal;
}

type UnaryFn = (
  argument: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: grpc.requestCallback<unknown>,
) => grpc.ClientUnaryCall;

/**
 * Makes one unary CRI call with a deadline and turns a failure into a CriError.
 *
 *   const v = await callUnary(cri.runtime, "Version", { version: "v1" });
 */
export function callUnary<C extends grpc.Client, M extends UnaryMethodName<C>>(
  client: C,
  method: M,
  request: RequestOf<C, M>,
  opts: CallOptions = {},
): Promise<ResponseOf<C, M>> {
  const serviceName = (client.constructor as { serviceName?: string }).serviceName ?? "CRI";
  const fullMethod = `${serviceName}/${method}`;
  const endpoint = client.getChannel().getTarget();
  const fn = client[method] as unknown as UnaryFn;
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_CRI_TIMEOUT_MS);

  return new Promise((resolve, reject) => {
    const { signal } = opts;
    if (signal?.aborted) {
      reject(
        new CriError("CRI_CANCELLED", `CRI ${fullMethod} at ${endpoint} was cancelled before it started`, {
          endpoint,
          method: fullMethod,
          cause: signal.reason,
        }),
      );
      return;
    }
    const onAbort = () => call.cancel();
    const call = fn.call(client, request, new grpc.Metadata(), { deadline }, (err, response) => {
      signal?.removeEventListener("abort", onAbort);
      if (err) reject(toCriError(err, endpoint, fullMethod));
      else resolve(response as ResponseOf<C, M>);
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function toCriError(err: grpc.ServiceError, endpoint: string, method: string): CriError {
  const code = CODE_BY_GRPC_STATUS[err.code] ?? "CRI_ERROR";
  const details = { endpoint, method, grpcCode: err.code, cause: err };
  if (code === "CRI_UNAVAILABLE" || code === "CRI_DEADLINE") {
    const missing = missingSocket(endpoint);
    if (missing !== undefined) {
      return new CriError(
        "CRI_UNAVAILABLE",
        `CRI ${method} at ${endpoint} failed: ${missing}; is containerd running? ` +
          "Start it (for tests and development: run scripts/setup-host.sh)",
        details,
      );
    }
  }
  const statusName = grpc.status[err.code] ?? String(err.code);
  return new CriError(code, `CRI ${method} at ${endpoint} failed (${statusName}): ${err.details}`, details);
}

/** Says why the endpoint's socket is unusable, or undefined when it exists and is a socket. */
function missingSocket(endpoint: string): string | undefined {
  const path = endpoint.startsWith("unix://") ? endpoint.slice("unix://".length) : endpoint;
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat === undefined) return `socket ${path} does not exist`;
  if (!stat.isSocket()) return `${path} is not a socket`;
  return undefined;
}
