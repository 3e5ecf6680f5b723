// The runtime going away under the agent and coming back. The shared engines are never restarted: for Docker
// the agent talks to dockerd through a socket proxy that the test stops and starts (what a restart looks
// like to a client, see ../../runtime/conformance/socket-proxy.ts); for CRI the agent uses a private
// containerd that the test SIGKILLs and starts again. The node goes NotReady naming the runtime, the pod's
// containers keep running, and afterwards the agent carries on with the same containers and runs new pods.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { SOCKET_DIR } from "../../runtime/conformance/faults.ts";
import { SocketProxy } from "../../runtime/conformance/socket-proxy.ts";
import { type AgentRuntimeKind, getNode, nodeCondition, waitForNodeReady } from "../../support/agent.ts";
import { testEnv } from "../../support/env.ts";
import { uniqueName } from "../../support/names.ts";
import { PrivateContainerd } from "../../support/private-containerd.ts";
import { waitFor } from "../../support/wait.ts";
import { BUSYBOX, httpGet, SLEEP_FOREVER, shContainer, useE2E } from "./harness.ts";

/** The runtime the agent is given, with a way to take it down and bring it back. */
interface Outage {
  endpoint: string;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

async function dockerOutage(): Promise<Outage> {
  const proxy = new SocketProxy(`${SOCKET_DIR}/${uniqueName("agent-docker")}.sock`, testEnv.dockerSocket);
  await proxy.start();
  return {
    endpoint: `unix://${proxy.path}`,
    down: () => proxy.stop(),
    up: () => proxy.start(),
    close: () => proxy.stop(),
  };
}

async function criOutage(): Promise<Outage> {
  // A bridge and subnet of its own (the shared containerd has dhtest0 10.89/16, cri-restart dhtestr0 10.90/16).
  const containerd = await PrivateContainerd.create({ bridge: "dhteste0", subnet: "10.91.0.0/16" });
  return {
    endpoint: containerd.endpoint,
    down: () => containerd.kill(),
    up: () => containerd.start(),
    close: () => containerd.destroy(),
  };
}

const ids = (pod: Pod) => (pod.status?.containerStatuses ?? []).map((c) => c.containerID);

export function runtimeRestartSuite(kind: AgentRuntimeKind): void {
  describe(`agent with its ${kind} runtime restarted`, () => {
    let outage: Outage | undefined;
    beforeAll(async () => {
      outage = kind === "docker" ? await dockerOutage() : await criOutage();
    }, 180_000);
    // Registered before the environment, so it runs after the environment's teardown removed the pods.
    afterAll(async () => {
      await outage?.close();
    });
    const env = useE2E(kind, {
      runtimeEndpoint: () => {
        if (!outage) throw new Error("the runtime for this test did not start (see beforeAll)");
        return outage.endpoint;
      },
    });

    it("goes NotReady naming the runtime while it is down, keeps the pods, and recovers", async () => {
      const e = env();
      const o = outage as Outage;
      await e.createPod("web", {
        containers: [{ name: "web", image: BUSYBOX, command: ["httpd", "-f", "-p", "8080", "-h", "/www"] }],
      });
      const before = await e.waitRunning("web");
      const ip = before.status?.podIP as string;
      await waitFor(() => httpGet(ip, 8080).catch(() => undefined), { what: `the page on ${ip}` });

      let down = false;
      try {
        await o.down();
        down = true;
        const notReady = await waitFor(
          async () => {
            const ready = nodeCondition(await getNode(e.cp, e.agent.nodeName), "Ready");
            return ready?.status === "False" ? ready : undefined;
          },
          { what: "the node to report Ready=False while the runtime is down", timeoutMs: 90_000 },
        );
        expect(notReady.reason).toBe("KubeletNotReady");
        expect(notReady.message).toMatch(/^container runtime is down/);
        expect(notReady.message).toContain(e.agent.runtimeEndpoint.replace(/^unix:\/\//, ""));
        // The containers do not depend on the runtime's API: the pod still serves.
        expect(await httpGet(ip, 8080)).toContain("deckhand test page");
        expect(e.agent.running).toBe(true);
        await o.up();
        down = false;
      } finally {
        if (down) await o.up();
      }

      await waitForNodeReady(e.cp, e.agent);
      // Same containers, nothing restarted, and the agent runs new pods again.
      await e.createPod("after", { containers: [shContainer("app", SLEEP_FOREVER)] });
      await e.waitRunning("after");
      const after = await e.waitRunning("web");
      expect(ids(after)).toEqual(ids(before));
      expect(after.status?.containerStatuses?.[0]?.restartCount).toBe(0);
      expect(await httpGet(ip, 8080)).toContain("deckhand test page");
    });
  });
}
