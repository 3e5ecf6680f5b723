// Unit tests of how the node API picks the pod and container instance a request is about, with kubelet's
// answers (validateContainerLogStatus) when there is none.
import { describe, expect, it } from "vitest";
import type { PodRuntimeStatus } from "../../../src/agent/pleg.ts";
import type { NodeServerHost } from "../../../src/agent/server/host.ts";
import {
  findPod,
  logInstance,
  readySandboxId,
  requireContainerSpec,
  runningInstance,
} from "../../../src/agent/server/targets.ts";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";

const pod = (waiting?: string): Pod =>
  ({
    metadata: { name: "p", namespace: "ns", uid: "u1" },
    spec: { containers: [{ name: "c" }], initContainers: [{ name: "init" }] },
    status: waiting ? { containerStatuses: [{ name: "c", state: { waiting: { reason: waiting } } }] } : {},
  }) as unknown as Pod;

type Instance = { id: string; attempt: number; state: "created" | "running" | "exited" };
const status = (...instances: Instance[]): PodRuntimeStatus =>
  ({
    uid: "u1",
    sandboxes: [{ id: "sb", state: "ready" }],
    containers: instances.map((i) => ({
      id: i.id,
      state: i.state,
      createdAt: i.attempt,
      metadata: { name: "c", attempt: i.attempt },
    })),
  }) as unknown as PodRuntimeStatus;

describe("node API targets", () => {
  it("finds pods by namespace, name and (when given) UID, or answers 404", () => {
    const host = { pods: () => [pod()] } as unknown as NodeServerHost;
    expect(findPod(host, "ns", "p").metadata?.uid).toBe("u1");
    expect(() => findPod(host, "ns", "p", "other-uid")).toThrow('pod "p" does not exist');
    expect(() => findPod(host, "other", "p")).toThrow(expect.objectContaining({ status: 404 }));
    expect(() => requireContainerSpec(pod(), "init")).not.toThrow();
    expect(() => requireContainerSpec(pod(), "x")).toThrow('container "x" not found in pod "p"');
  });

  it("reads the current instance, or with previous the one before it", () => {
    const restarted = status(
      { id: "old", attempt: 0, state: "exited" },
      { id: "new", attempt: 1, state: "running" },
    );
    expect(logInstance(pod(), restarted, "c", false).id).toBe("new");
    expect(logInstance(pod(), restarted, "c", true).id).toBe("old");
    // A replacement that has not started yet shows its predecessor's log, as kubelet does.
    const pending = status(
      { id: "old", attempt: 0, state: "exited" },
      { id: "new", attempt: 1, state: "created" },
    );
    expect(logInstance(pod(), pending, "c", false).id).toBe("old");
  });

  it("answers 400 with kubelet's wording when there is nothing to read", () => {
    const once = status({ id: "only", attempt: 0, state: "running" });
    expect(() => logInstance(pod(), once, "c", true)).toThrow(
      'previous terminated container "c" in pod "p" not found',
    );
    expect(() => logInstance(pod(), undefined, "c", false)).toThrow(
      'container "c" in pod "p" is waiting to start: ContainerCreating',
    );
    expect(() => logInstance(pod("ImagePullBackOff"), undefined, "c", false)).toThrow(
      'container "c" in pod "p" is waiting to start: trying and failing to pull image',
    );
    expect(() => logInstance(pod(), undefined, "c", false)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it("execs only into a running instance and forwards only into a ready sandbox", () => {
    expect(runningInstance(pod(), status({ id: "r", attempt: 0, state: "running" }), "c").id).toBe("r");
    expect(() => runningInstance(pod(), status({ id: "x", attempt: 0, state: "exited" }), "c")).toThrow(
      'container not found ("c")',
    );
    expect(readySandboxId(pod(), status())).toBe("sb");
    expect(() => readySandboxId(pod(), undefined)).toThrow('pod "p" has no running sandbox on this node');
  });
});
