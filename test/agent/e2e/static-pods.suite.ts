// Static pods end to end: a manifest directory the agent watches, mirror pods in the API, edits and removals,
// a mirror deleted through kubectl, a broken manifest reported without affecting the others, and a node
// whose API server is down at start (static pods run; mirrors appear once it is reachable).
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stringify as stringifyYaml } from "yaml";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { RuntimeLabels } from "../../../src/runtime/types.ts";
import { type AgentRuntimeKind, nodeObjects } from "../../support/agent.ts";
import { waitFor } from "../../support/wait.ts";
import { type E2E, SLEEP_FOREVER, shContainer, useE2E } from "./harness.ts";

const manifestDir = () => mkdtempSync(join(tmpdir(), "deckhand-static-"));

function writeManifest(dir: string, file: string, name: string, script = SLEEP_FOREVER): void {
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: name } },
    spec: { terminationGracePeriodSeconds: 2, containers: [shContainer("main", script)] },
  };
  writeFileSync(join(dir, file), stringifyYaml(pod));
}

async function mirror(e: E2E, name: string): Promise<Pod | undefined> {
  const out = await e.cp.kubectl(["get", "pod", name, "-n", "default", "-o", "json", "--ignore-not-found"]);
  return out.stdout.trim() ? (JSON.parse(out.stdout) as Pod) : undefined;
}

async function runningContainerIds(e: E2E, podName: string): Promise<string[]> {
  const { containers } = await nodeObjects(e.runtime, e.agent.nodeName);
  return containers
    .filter((c) => c.labels[RuntimeLabels.podName] === podName && c.state === "running")
    .map((c) => c.id);
}

export function staticPodSuite(kind: AgentRuntimeKind): void {
  describe(`static pods on ${kind}`, () => {
    const dir = manifestDir();
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const env = useE2E(kind, { config: { staticPodPath: dir, fileCheckFrequency: "2s" } });

    it("runs a manifest's pod, shows a mirror pod, restarts it on edit and stops it on removal", async () => {
      const e = env();
      const name = `web-${e.agent.nodeName}`;
      writeManifest(dir, "web.yaml", "web");
      const first = await waitFor(
        async () => {
          const m = await mirror(e, name);
          return m?.status?.phase === "Running" ? m : undefined;
        },
        { what: `mirror pod ${name} Running`, timeoutMs: 90_000 },
      );
      expect(first.metadata?.annotations).toMatchObject({
        "kubernetes.io/config.source": "file",
        "kubernetes.io/config.mirror": first.metadata?.annotations?.["kubernetes.io/config.hash"],
      });
      expect(first.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "Node", name: e.agent.nodeName });
      expect(first.spec?.nodeName).toBe(e.agent.nodeName);
      const [firstContainer] = await runningContainerIds(e, name);
      expect(firstContainer).toBeDefined();

      // Deleting the mirror through kubectl: a new mirror appears, the static pod keeps running as it was.
      await e.kubectl("delete", "pod", name, "-n", "default", "--wait=false");
      await waitFor(
        async () => {
          const m = await mirror(e, name);
          return (
            m &&
            m.metadata?.uid !== first.metadata?.uid &&
            !m.metadata?.deletionTimestamp &&
            m.status?.phase === "Running"
          );
        },
        { what: "the mirror pod to be recreated with status", timeoutMs: 90_000 },
      );
      expect(await runningContainerIds(e, name)).toEqual([firstContainer]);

      // An edit is a new pod: the old container stops, a new one starts, the mirror follows the new hash.
      writeManifest(dir, "web.yaml", "web", `echo edited; ${SLEEP_FOREVER}`);
      await waitFor(
        async () => {
          const ids = await runningContainerIds(e, name);
          return ids.length === 1 && ids[0] !== firstContainer;
        },
        { what: "the edited static pod to replace the old one", timeoutMs: 90_000 },
      );
      const edited = await waitFor(
        async () => {
          const m = await mirror(e, name);
          return m &&
            m.metadata?.annotations?.["kubernetes.io/config.mirror"] !==
              first.metadata?.annotations?.["kubernetes.io/config.mirror"] &&
            m.status?.phase === "Running"
            ? m
            : undefined;
        },
        { what: "the mirror pod of the edited manifest", timeoutMs: 90_000 },
      );
      expect(edited.spec?.containers?.[0]?.command?.join(" ")).toContain("echo edited");

      unlinkSync(join(dir, "web.yaml"));
      await waitFor(async () => (await mirror(e, name)) === undefined, {
        what: "the mirror pod to go",
        timeoutMs: 90_000,
      });
      await waitFor(async () => (await runningContainerIds(e, name)).length === 0, {
        what: "the static pod's containers to stop",
        timeoutMs: 90_000,
      });
    });

    it("reports a broken manifest on the Node, keeps the other static pods, and recovers once it is fixed", async () => {
      const e = env();
      writeManifest(dir, "good.yaml", "good");
      writeFileSync(
        join(dir, "broken.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: broken}\nspec: {containers: [{name: Bad_Name, image: x}]}\n",
      );
      await waitFor(async () => (await mirror(e, `good-${e.agent.nodeName}`))?.status?.phase === "Running", {
        what: "the good static pod",
        timeoutMs: 90_000,
      });
      const event = await waitFor(
        async () => {
          const out = await e.cp.kubectl([
            "get",
            "events",
            "-A",
            "--field-selector",
            `involvedObject.kind=Node,involvedObject.name=${e.agent.nodeName},reason=FailedStaticPod`,
            "-o",
            "json",
          ]);
          return (JSON.parse(out.stdout) as { items: Array<{ message?: string }> }).items[0];
        },
        { what: "a FailedStaticPod event on the Node", timeoutMs: 60_000 },
      );
      expect(event.message).toContain("broken.yaml");
      expect(event.message).toContain("spec.containers[0].name");
      expect(e.agent.logs()).toContain("static pod manifest rejected");

      writeManifest(dir, "broken.yaml", "fixed");
      await waitFor(async () => (await mirror(e, `fixed-${e.agent.nodeName}`))?.status?.phase === "Running", {
        what: "the fixed manifest's pod",
        timeoutMs: 90_000,
      });
      unlinkSync(join(dir, "good.yaml"));
      unlinkSync(join(dir, "broken.yaml"));
      await waitFor(
        async () =>
          (await nodeObjects(e.runtime, e.agent.nodeName)).containers.every((c) => c.state !== "running"),
        {
          what: "the static pods to stop after their files went",
          timeoutMs: 90_000,
        },
      );
    });

    it("keeps static pods running while the API server is down and reports their mirrors when it is back", async () => {
      const e = env();
      const name = `offline-${e.agent.nodeName}`;
      await e.cp.kill();
      await e.agent.restart();
      writeManifest(dir, "offline.yaml", "offline");
      await waitFor(async () => (await runningContainerIds(e, name)).length === 1, {
        what: "the static pod to run with the API server down",
        timeoutMs: 90_000,
      });
      await e.cp.start();
      await waitFor(async () => (await mirror(e, name))?.status?.phase === "Running", {
        what: "the mirror pod once the API server is back",
        timeoutMs: 120_000,
      });
      unlinkSync(join(dir, "offline.yaml"));
      await waitFor(async () => (await mirror(e, name)) === undefined, {
        what: "the mirror pod to go",
        timeoutMs: 90_000,
      });
    }, 300_000); // an outage of 30 s, the agent's reconnect backoff and a loaded machine
  });
}
