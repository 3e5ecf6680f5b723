// The service proxy's public surface, for the agent's composition root and the `deckhand agent` command.
export { type CleanupResult, cleanupProxyRules } from "./cleanup.ts";
export { type Conntrack, type ConntrackDeletion, execConntrack } from "./conntrack.ts";
export {
  type Backend,
  detectBackend,
  ExecIptables,
  type ExecIptablesOptions,
  type Iptables,
  IptablesError,
  RestoreError,
} from "./iptables.ts";
export type { ProxyMetrics, ProxySyncMetrics } from "./metrics.ts";
export {
  PROXY_LABEL_SELECTOR,
  type ServicePortView,
  ServiceProxy,
  type ServiceProxyOptions,
  type ServiceProxyStats,
} from "./service-proxy.ts";
export type { ProxyLogger, SyncReport } from "./syncer.ts";
export { procSysctl, type Sysctl } from "./sysctl.ts";
