// What the node server needs from the agent, and nothing more: the pods it runs, the runtime's view of
// them, the runtime itself and the metrics. The composition root (../agent.ts) builds it from its parts.
import type { Pod } from "../../api/schema/core/pod-types.ts";
import type { Runtime } from "../../runtime/types.ts";
import type { AgentMetrics } from "../metrics.ts";
import type { PodRuntimeStatus } from "../pleg.ts";

export interface NodeServerHost {
  readonly nodeName: string;
  /** The agent's root directory (pod volumes live below it); /stats/summary reports its filesystem. */
  readonly rootDir: string;
  readonly runtime: Runtime;
  readonly metrics: AgentMetrics;
  /** Every pod admitted to run here (API and static pods), as the agent knows them. */
  pods(): Pod[];
  /** The runtime's view of one pod as of the last relist; undefined when the runtime has nothing of it. */
  runtimeStatus(uid: string): PodRuntimeStatus | undefined;
  /** The runtime's view of every pod of this node. */
  runtimePods(): PodRuntimeStatus[];
  /** Node health for /healthz (e.g. the PLEG's); healthy when absent. */
  health?(): { ok: boolean; message: string };
}
