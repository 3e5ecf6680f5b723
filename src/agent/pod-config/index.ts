// The pod configuration layer of the node agent: turns a Pod (as the API server stores it, defaults applied)
// into what the Runtime needs — sandbox config, container configs — and keeps the pod's files on the node
// (volumes, /etc/hosts, termination logs). The sync executor (../sync-pod.ts) calls these.
export { type AtomicWriteOptions, atomicWrite, type FileProjection } from "./atomic-writer.ts";
export {
  buildContainerConfig,
  ContainerAnnotations,
  type ContainerConfigOptions,
  checkImageReference,
} from "./container.ts";
export {
  formatPod,
  isPodConfigError,
  type PodConfigApi,
  type PodConfigContext,
  PodConfigError,
  type PodConfigErrorReason,
  type ResourceList,
} from "./context.ts";
export { parseResolvConf, podDnsConfig } from "./dns.ts";
export { makeEnvironment } from "./env.ts";
export { expand, mappingFor } from "./expansion.ts";
export { type Mounter, systemMounter } from "./mounter.ts";
export { containerResources, oomScoreAdj } from "./resources.ts";
export { buildSandboxConfig, portMappings } from "./sandbox.ts";
export type { ImageUser } from "./security.ts";
export {
  type IssuedToken,
  ServiceAccountTokenCache,
  type ServiceAccountTokenRequest,
  type ServiceAccountTokenSource,
} from "./service-account-token.ts";
export { apiServiceAccountTokens, requestToken, tokenRequestBody } from "./service-account-token-api.ts";
export { envForServices, serviceEnvForPod } from "./service-env.ts";
export {
  cleanupPodDirs,
  type PodVolumes,
  type PreparedVolume,
  prepareVolumes,
  type VolumeSourceKind,
} from "./volumes.ts";
