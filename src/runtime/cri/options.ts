// Configuration of the CRI driver, validated once at construction with messages that name the option.
import { isAbsolute } from "node:path";
import { invalid } from "../errors.ts";
import { type CriClientOptions, isCriError, parseCriEndpoint } from "./client.ts";
import { DEFAULT_POD_LOG_ROOT } from "./convert.ts";

/** containerd's socket on a node. */
export const DEFAULT_CRI_ENDPOINT = "unix:///run/containerd/containerd.sock";

export interface CriRuntimeOptions extends CriClientOptions {
  /** The CRI socket: `unix:///path` or `/path`. Default unix:///run/containerd/containerd.sock. */
  endpoint?: string;
  /**
   * Root of the per-pod log directories (`<root>/<namespace>_<name>_<uid>`) used when a sandbox config has
   * no logDirectory. Default /var/log/pods, as kubelet.
   */
  podLogRoot?: string;
  /** Deadline of an ordinary CRI call. Default 2 min (kubelet's --runtime-request-timeout). */
  requestTimeoutMs?: number;
  /** Deadline of an image pull. Default 15 min. */
  pullTimeoutMs?: number;
  /** Deadline for connecting a streaming session (exec, attach, port-forward). Default 30 s. */
  streamConnectTimeoutMs?: number;
  /** How often a followed log asks whether its container is still running. Default 1 s. */
  logCheckIntervalMs?: number;
  /** RuntimeClass handler for new sandboxes; "" selects the runtime's default. */
  runtimeHandler?: string;
}

export interface ResolvedCriOptions {
  endpoint: string;
  podLogRoot: string;
  requestTimeoutMs: number;
  pullTimeoutMs: number;
  streamConnectTimeoutMs: number;
  logCheckIntervalMs: number;
  runtimeHandler: string;
  client: CriClientOptions;
}

function positive(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw invalid(field, `${value} must be a positive number of milliseconds`);
  return value;
}

export function resolveCriOptions(options: CriRuntimeOptions = {}): ResolvedCriOptions {
  const endpoint = options.endpoint ?? DEFAULT_CRI_ENDPOINT;
  let socket: string;
  try {
    socket = parseCriEndpoint(endpoint);
  } catch (error) {
    if (isCriError(error)) throw invalid("endpoint", error.message);
    throw error;
  }
  const podLogRoot = options.podLogRoot ?? DEFAULT_POD_LOG_ROOT;
  if (!isAbsolute(podLogRoot)) throw invalid("podLogRoot", `"${podLogRoot}" must be an absolute directory`);
  const client: CriClientOptions = {};
  if (options.maxReceiveMessageBytes !== undefined)
    client.maxReceiveMessageBytes = options.maxReceiveMessageBytes;
  return {
    endpoint: `unix://${socket}`,
    podLogRoot,
    requestTimeoutMs: positive("requestTimeoutMs", options.requestTimeoutMs, 120_000),
    pullTimeoutMs: positive("pullTimeoutMs", options.pullTimeoutMs, 15 * 60_000),
    streamConnectTimeoutMs: positive("streamConnectTimeoutMs", options.streamConnectTimeoutMs, 30_000),
    logCheckIntervalMs: positive("logCheckIntervalMs", options.logCheckIntervalMs, 1000),
    runtimeHandler: options.runtimeHandler ?? "",
    client,
  };
}
