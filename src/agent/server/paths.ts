// The node API's URL space, as kubelet lays it out. Pure: a path in, the route it names out.

export type NodeRoute =
  | { kind: "healthz" }
  | { kind: "pods" }
  | { kind: "runningpods" }
  | { kind: "metrics" }
  | { kind: "metricsProbes" }
  | { kind: "statsSummary" }
  | { kind: "containerLogs"; namespace: string; pod: string; container: string }
  | { kind: "exec" | "attach"; namespace: string; pod: string; uid?: string; container: string }
  | { kind: "portForward"; namespace: string; pod: string; uid?: string };

const FIXED: Record<string, NodeRoute> = {
  "/healthz": { kind: "healthz" },
  "/pods": { kind: "pods" },
  "/pods/": { kind: "pods" },
  "/runningpods": { kind: "runningpods" },
  "/runningpods/": { kind: "runningpods" },
  "/metrics": { kind: "metrics" },
  "/metrics/probes": { kind: "metricsProbes" },
  "/stats/summary": { kind: "statsSummary" },
  "/stats/summary/": { kind: "statsSummary" },
};

/** The route a request path names, or undefined (404). Segments are percent-decoded. */
export function parseNodePath(pathname: string): NodeRoute | undefined {
  const fixed = FIXED[pathname];
  if (fixed) return fixed;
  let segments: string[];
  try {
    segments = pathname.split("/").slice(1).map(decodeURIComponent);
  } catch {
    return undefined;
  }
  if (segments.some((s) => s === "")) return undefined;
  const [head, ...rest] = segments;
  switch (head) {
    case "containerLogs":
      if (rest.length !== 3) return undefined;
      return {
        kind: "containerLogs",
        namespace: rest[0] ?? "",
        pod: rest[1] ?? "",
        container: rest[2] ?? "",
      };
    case "exec":
    case "attach":
      // /exec/{ns}/{pod}/{container} or /exec/{ns}/{pod}/{uid}/{container}
      if (rest.length === 3)
        return { kind: head, namespace: rest[0] ?? "", pod: rest[1] ?? "", container: rest[2] ?? "" };
      if (rest.length === 4)
        return {
          kind: head,
          namespace: rest[0] ?? "",
          pod: rest[1] ?? "",
          uid: rest[2] ?? "",
          container: rest[3] ?? "",
        };
      return undefined;
    case "portForward":
      if (rest.length === 2) return { kind: "portForward", namespace: rest[0] ?? "", pod: rest[1] ?? "" };
      if (rest.length === 3)
        return { kind: "portForward", namespace: rest[0] ?? "", pod: rest[1] ?? "", uid: rest[2] ?? "" };
      return undefined;
    default:
      return undefined;
  }
}
