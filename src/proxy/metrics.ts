// What the service proxy tells its metrics. The agent implements this with upstream kube-proxy's metric names
// (src/agent/metrics.ts); the proxy itself does not depend on a metrics library.

export interface ProxySyncMetrics {
  kind: "full" | "partial";
  seconds: number;
  /** Wall-clock time the sync ended (ms since the epoch). */
  endedAtMs: number;
  /** Rules Deckhand owns per table after the sync (kubeproxy_sync_proxy_rules_iptables_total). */
  rules: { filter: number; nat: number };
  /** Services whose changes wait for the next sync (…_service_changes_pending, …_endpoint_changes_pending). */
  pendingServices: number;
  pendingEndpoints: number;
}

export interface ProxyMetrics {
  /** A Service event was handled (kubeproxy_sync_proxy_rules_service_changes_total). */
  serviceChanged(pendingServices: number): void;
  /** An EndpointSlice event was handled (kubeproxy_sync_proxy_rules_endpoint_changes_total). */
  endpointsChanged(pendingServices: number): void;
  /** A sync was asked for (kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds). */
  queued(atMs: number): void;
  /** A sync succeeded (duration histograms, last timestamp, rule counts, pending gauges). */
  synced(sync: ProxySyncMetrics): void;
  /** An iptables-restore failed; `partial` when it belonged to a partial sync. */
  restoreFailed(partial: boolean): void;
  /**
   * Changes are programmed, `seconds` after the proxy saw the oldest of them
   * (kubeproxy_network_programming_duration_seconds; upstream starts at the EndpointSlice's trigger time).
   */
  programmed(seconds: number): void;
}
