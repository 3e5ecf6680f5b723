// The CRI runtime driver: Runtime (../types.ts) over CRI runtime.v1 gRPC, e.g. containerd's CRI plugin.
//
//   const runtime = createCriRuntime({ endpoint: "unix:///run/containerd/containerd.sock" });
export { type CriRuntimeOptions, DEFAULT_CRI_ENDPOINT } from "./options.ts";
export { CriRuntime, createCriRuntime } from "./runtime.ts";
