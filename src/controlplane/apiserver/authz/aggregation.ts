// The ClusterRole aggregation controller (upstream pkg/controller/clusterroleaggregation): a ClusterRole
// with an aggregationRule gets, as its rules, the rules of every other ClusterRole its selectors match, in
// name order, without duplicates. admin, edit and view are built this way, so labelling a ClusterRole
// `rbac.authorization.k8s.io/aggregate-to-view: "true"` extends view (and through it edit and admin).
// Aggregated roles may feed each other; the fixpoint is computed in memory and written once per change.

import type { Logger } from "pino";
import { selectorMatches } from "../../../api/schema/meta-validation.ts";
import type { ClusterRole, PolicyRule } from "../../../api/schema/rbac/rbac.ts";
import { RBAC_GROUP } from "../../../api/schema/rbac/rbac.ts";
import { SYSTEM_USER } from "../bootstrap.ts";
import type { ObjectStore } from "../store/object-store.ts";

const MAX_PASSES = 16;

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** Aggregated rules of every role with an aggregationRule whose rules differ from what they should be. */
export function aggregate(roles: readonly ClusterRole[]): Map<string, PolicyRule[]> {
  const rules = new Map<string, PolicyRule[]>();
  for (const r of roles) rules.set(r.metadata?.name ?? "", r.rules ?? []);
  const sorted = [...roles].sort((a, b) => ((a.metadata?.name ?? "") < (b.metadata?.name ?? "") ? -1 : 1));
  const aggregated = sorted.filter((r) => r.aggregationRule);
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    let changed = false;
    for (const role of aggregated) {
      const name = role.metadata?.name ?? "";
      const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
      const seen = new Set<string>();
      const next: PolicyRule[] = [];
      for (const other of sorted) {
        const otherName = other.metadata?.name ?? "";
        if (otherName === name) continue;
        if (!selectors.some((s) => selectorMatches(s, other.metadata?.labels))) continue;
        for (const rule of rules.get(otherName) ?? []) {
          const key = canonical(rule);
          if (seen.has(key)) continue;
          seen.add(key);
          next.push(rule);
        }
      }
      if (canonical(next) !== canonical(rules.get(name))) {
        rules.set(name, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  const updates = new Map<string, PolicyRule[]>();
  for (const role of aggregated) {
    const name = role.metadata?.name ?? "";
    const next = rules.get(name) ?? [];
    if (canonical(next) !== canonical(role.rules ?? [])) updates.set(name, next);
  }
  return updates;
}

export class ClusterRoleAggregator {
  private readonly roles: () => ClusterRole[];
  private readonly store: () => ObjectStore | undefined;
  private readonly log: Logger;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(options: { roles: () => ClusterRole[]; store: () => ObjectStore | undefined; log: Logger }) {
    this.roles = options.roles;
    this.store = options.store;
    this.log = options.log.child({ controller: "clusterrole-aggregation" });
  }

  /** Coalesces: one sync at a time, and one more if something changed meanwhile. */
  trigger(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.sync().catch((error: unknown) =>
          this.log.warn({ err: error }, "aggregating ClusterRoles failed"),
        );
      } while (this.again);
      this.running = undefined;
    })();
    return this.running;
  }

  private async sync(): Promise<void> {
    const store = this.store();
    if (!store) return;
    for (const [name, rules] of aggregate(this.roles())) {
      await store.update(
        "",
        name,
        (current) => {
          const role = structuredClone(current) as ClusterRole;
          role.rules = rules;
          if (role.metadata) delete role.metadata.resourceVersion;
          return role;
        },
        { user: SYSTEM_USER, dryRun: false },
        { mode: "main" },
      );
      this.log.info({ clusterRole: name, rules: rules.length }, `aggregated ${RBAC_GROUP} ClusterRole rules`);
    }
  }
}
