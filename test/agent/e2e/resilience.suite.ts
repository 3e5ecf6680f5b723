// The agent losing its own process or its API server: after kill -9 and a restart it adopts the containers it
// left running (same IDs, restart counts unchanged, nothing re-created); with the control plane stopped for
// 30 s the pods keep running, the agent reconnects on its own, and what changed meanwhile reaches the API.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { type PodSandboxConfig, RuntimeLabels } from "../../../src/runtime/types.ts";
import {
  type AgentRuntimeKind,
  getNode,
  nodeCondition,
  removeNodeObjects,
  waitForNodeReady,
} from "../../support/agent.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";
import { BUSYBOX, httpGet, SLEEP_FOREVER, shContainer, useE2E } from "./harness.ts";

const ids = (pod: Pod) =>
  Object.fromEntries((pod.status?.containerStatuses ?? []).map((c) => [c.name, c.containerID]));
const counts = (pod: Pod) =>
  Object.fromEntries((pod.status?.containerStatuses ?? []).map((c) => [c.name, c.restartCount]));

/** The control plane stays down this long: the "API server stopped 30 s". */
const OUTAGE_MS = 30_000;

export function resilienceSuite(kind: AgentRuntimeKind): void {
  describe(`agent resilience on ${kind}`, () => {
    const env = useE2E(kind);

    it("kill -9 and restart: running containers adopted with the same IDs and restart counts", async () => {
      const e = env();
      // One container that already restarted once, so an unchanged count means something.
      await e.createPod("survivor", {
        volumes: [{ name: "state", emptyDir: {} }],
        containers: [
          shContainer("steady", SLEEP_FOREVER),
          shContainer("restarted", `[ -f /state/ran ] || { touch /state/ran; exit 1; }; ${SLEEP_FOREVER}`, {
            volumeMounts: [{ name: "state", mountPath: "/state" }],
          }),
        ],
      });
      const before = await e.waitPod(
        "survivor",
        (p) =>
          p.status?.phase === "Running" &&
          (p.status.containerStatuses ?? []).every((c) => c.state?.running) &&
          counts(p).restarted === 1,
        "running, with container 'restarted' restarted once",
      );
      // Three starts so far (steady once, restarted twice): wait until their events are all written.
      await waitFor(
        async () =>
          (await e.events("survivor"))
            .filter((ev) => ev.reason === "Started")
            .reduce((n, ev) => n + (ev.count ?? 1), 0) === 3,
        { what: "three Started events on the pod" },
      );
      const eventCount = (await e.events("survivor")).reduce((n, ev) => n + (ev.count ?? 1), 0);
      const sandboxes = (
        await e.runtime.listPodSandboxes({ labelSelector: { "io.kubernetes.pod.name": "survivor" } })
      )
        .map((s) => s.id)
        .sort();

      await e.agent.kill9();
      await e.agent.start();
      await waitForNodeReady(e.cp, e.agent);
      // A pod created after the restart runs, so the restarted agent is fully working …
      await e.createPod("after-restart", { containers: [shContainer("app", SLEEP_FOREVER)] });
      await e.waitRunning("after-restart");
      // … and it left the adopted pod alone.
      const after = await e.waitRunning("survivor");
      expect(ids(after)).toEqual(ids(before));
      expect(counts(after)).toEqual({ steady: 0, restarted: 1 });
      expect(
        (await e.runtime.listPodSandboxes({ labelSelector: { "io.kubernetes.pod.name": "survivor" } }))
          .map((s) => s.id)
          .sort(),
      ).toEqual(sandboxes);
      const events = await e.events("survivor");
      expect(events.reduce((n, ev) => n + (ev.count ?? 1), 0)).toBe(eventCount);
      expect(after.status?.startTime).toBe(before.status?.startTime);
    });

    it("changes while the agent is stopped: a force-deleted pod's containers go, a new pod starts", async () => {
      const e = env();
      await e.createPod("doomed", { containers: [shContainer("app", SLEEP_FOREVER)] });
      const doomed = await e.waitRunning("doomed");
      const doomedId = e.containerId(doomed, "app");
      await e.agent.stop();
      await e.kubectl("delete", "pod", "doomed", "-n", e.ns, "--force", "--grace-period=0");
      await e.createPod("newcomer", { containers: [shContainer("app", SLEEP_FOREVER)] });
      // Nobody runs it while the agent is away …
      expect((await e.getPod("newcomer"))?.status?.phase ?? "Pending").toBe("Pending");
      expect((await e.runtime.containerStatus(doomedId)).state).toBe("running");
      await e.agent.start();
      // … and the restarted agent starts it, and removes what no source claims any more.
      await e.waitRunning("newcomer");
      await waitFor(
        async () =>
          (await e.runtime.listPodSandboxes({ labelSelector: { "io.kubernetes.pod.name": "doomed" } }))
            .length === 0 && (await e.runtime.listContainers({ id: doomedId })).length === 0,
        {
          what: "the restarted agent to remove the force-deleted pod's sandbox and container",
          timeoutMs: 90_000,
        },
      );
    });

    it("removes its own orphans from the runtime and never another node's objects", async () => {
      const e = env();
      const sandbox = (node: string, name: string): PodSandboxConfig => ({
        metadata: { name, namespace: e.ns, uid: randomUUID(), attempt: 0 },
        hostname: name,
        labels: { [RuntimeLabels.nodeName]: node },
      });
      // Another agent sharing this runtime: its objects look exactly like orphans, except for the node label.
      const otherNode = uniqueName("dh-other-node");
      const foreign = await e.runtime.runPodSandbox(sandbox(otherNode, "foreign"));
      try {
        const orphan = await e.runtime.runPodSandbox(sandbox(e.agent.nodeName, "orphan"));
        await waitFor(async () => (await e.runtime.listPodSandboxes({ id: orphan })).length === 0, {
          what: "the agent to remove a sandbox of its node that no pod claims",
          timeoutMs: 90_000,
        });
        expect((await e.runtime.listPodSandboxes({ id: foreign })).map((s) => s.id)).toEqual([foreign]);
      } finally {
        await removeNodeObjects(e.runtime, otherNode);
      }
    });

    it("control plane down for 30 s: pods keep running, the agent reconnects, status catches up", async () => {
      const e = env();
      await e.createPod("steady", {
        containers: [{ name: "web", image: BUSYBOX, command: ["httpd", "-f", "-p", "8080", "-h", "/www"] }],
      });
      // Exits with 3 once the test touches /tmp/stop: a change that happens while the API is away.
      await e.createPod("changes", {
        volumes: [{ name: "state", emptyDir: {} }],
        containers: [
          shContainer(
            "app",
            `if [ -f /state/stopped-once ]; then ${SLEEP_FOREVER}; fi; while [ ! -f /tmp/stop ]; do sleep 1; done; touch /state/stopped-once; exit 3`,
            { volumeMounts: [{ name: "state", mountPath: "/state" }] },
          ),
        ],
      });
      const steady = await e.waitRunning("steady");
      const changes = await e.waitRunning("changes");
      const ip = steady.status?.podIP as string;
      await waitFor(() => httpGet(ip, 8080).catch(() => undefined), { what: "the page before the outage" });

      await e.cp.kill();
      let down = true;
      try {
        const downSince = Date.now();
        await e.exec(changes, "app", ["touch", "/tmp/stop"]);
        // While the API is gone the pods keep running and serving, and the agent restarts the container.
        await waitFor(
          async () => {
            const list = await e.runtime.listContainers({
              labelSelector: { "io.kubernetes.pod.name": "changes", "io.kubernetes.container.name": "app" },
            });
            return list.some((c) => c.state === "running" && c.metadata.attempt === 1);
          },
          { what: "the agent to restart the exited container while the API is down", timeoutMs: 60_000 },
        );
        expect(await httpGet(ip, 8080)).toContain("deckhand test page");
        await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downSince)));
        expect(await httpGet(ip, 8080)).toContain("deckhand test page");
        expect(e.agent.running).toBe(true);
        await e.cp.start();
        down = false;
      } finally {
        if (down) await e.cp.start();
      }
      // The agent reconnects on its own: heartbeat, watch and status writes resume.
      await waitForNodeReady(e.cp, e.agent);
      const caughtUp = await e.waitPod(
        "changes",
        (p) => counts(p).app === 1 && p.status?.containerStatuses?.[0]?.state?.running !== undefined,
        "restartCount 1 reported after the outage",
      );
      expect(caughtUp.status?.containerStatuses?.[0]?.lastState?.terminated).toMatchObject({ exitCode: 3 });
      expect(ids(await e.waitRunning("steady"))).toEqual(ids(steady));
      // And the watch works again: a pod created now runs, a deletion now is carried out.
      await e.createPod("after-outage", { containers: [shContainer("app", SLEEP_FOREVER)] });
      await e.waitRunning("after-outage");
      await e.deletePod("after-outage");
      await e.waitGone("after-outage");
      const node = await getNode(e.cp, e.agent.nodeName);
      expect(nodeCondition(node, "Ready")?.status).toBe("True");
    }, 300_000); // an outage of 30 s, the agent's reconnect backoff and a loaded machine
  });
}
