// A Runtime decorator that counts and times every call under kubelet's operation_type names
// (kubelet_runtime_operations_total / _errors_total / _duration_seconds, as upstream's
// instrumentedRuntimeService does). It changes nothing else: results and errors pass through as they are.
import type { LogLine, Runtime } from "../runtime/types.ts";

/** The recording side: one call of `operation` took `seconds` and failed or not. */
export interface RuntimeOperationRecorder {
  runtimeOperation(operation: string, seconds: number, failed: boolean): void;
}

/** Runtime method → upstream's operation_type label. */
export const RUNTIME_OPERATIONS = {
  version: "version",
  status: "status",
  runPodSandbox: "run_podsandbox",
  stopPodSandbox: "stop_podsandbox",
  removePodSandbox: "remove_podsandbox",
  podSandboxStatus: "podsandbox_status",
  listPodSandboxes: "list_podsandbox",
  createContainer: "create_container",
  startContainer: "start_container",
  stopContainer: "stop_container",
  removeContainer: "remove_container",
  containerStatus: "container_status",
  listContainers: "list_containers",
  execSync: "exec_sync",
  exec: "exec",
  attach: "attach",
  portForward: "port_forward",
  pullImage: "pull_image",
  imageStatus: "image_status",
  listImages: "list_images",
  removeImage: "remove_image",
  imageFsInfo: "image_fs_info",
  containerStats: "container_stats",
  listContainerStats: "list_container_stats",
} as const satisfies Partial<Record<keyof Runtime, string>>;

type AsyncMethod = keyof typeof RUNTIME_OPERATIONS;

export function instrumentRuntime(
  inner: Runtime,
  recorder: RuntimeOperationRecorder,
  now: () => number = () => performance.now(),
): Runtime {
  const timed = <K extends AsyncMethod>(method: K): Runtime[K] => {
    const fn = inner[method] as unknown as (...args: unknown[]) => Promise<unknown>;
    const operation = RUNTIME_OPERATIONS[method];
    return (async (...args: unknown[]) => {
      const start = now();
      try {
        const result = await fn.apply(inner, args);
        recorder.runtimeOperation(operation, (now() - start) / 1000, false);
        return result;
      } catch (error) {
        recorder.runtimeOperation(operation, (now() - start) / 1000, true);
        throw error;
      }
    }) as unknown as Runtime[K];
  };
  const methods = Object.fromEntries(
    (Object.keys(RUNTIME_OPERATIONS) as AsyncMethod[]).map((m) => [m, timed(m)]),
  ) as Pick<Runtime, AsyncMethod>;
  return {
    name: inner.name,
    endpoint: inner.endpoint,
    ...methods,
    // Logs stream for as long as the caller reads; upstream reads log files directly and has no operation
    // for them, so they are counted (not timed) as "container_logs".
    containerLogs(containerId, options) {
      let iterable: AsyncIterable<LogLine>;
      try {
        iterable = inner.containerLogs(containerId, options);
      } catch (error) {
        recorder.runtimeOperation("container_logs", 0, true);
        throw error;
      }
      recorder.runtimeOperation("container_logs", 0, false);
      return iterable;
    },
    close: () => inner.close(),
  };
}
