// Pods through the whole agent, on one real runtime: running and served, shared localhost and emptyDir, init
// order, env from ConfigMap/Secret (and a missing key that blocks only its own pod), resource limits in the
// container's cgroup, graceful deletion with preStop, restart policies, node-side admission and a command
// the runtime cannot run. Tests run concurrently against one agent: each pod also shows that the others do
// not block it.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import type { AgentRuntimeKind } from "../../support/agent.ts";
import { waitFor } from "../../support/wait.ts";
import { BUSYBOX, httpGet, SLEEP_FOREVER, shContainer, useE2E } from "./harness.ts";

const containerStatus = (pod: Pod, name: string) =>
  pod.status?.containerStatuses?.find((c) => c.name === name);
const condition = (pod: Pod, type: string) => pod.status?.conditions?.find((c) => c.type === type);

export function podSuite(kind: AgentRuntimeKind): void {
  describe.concurrent(`agent pods on ${kind}`, () => {
    const env = useE2E(kind);
    const hostDir = mkdtempSync(join(tmpdir(), "deckhand-e2e-host-"));
    afterAll(() => rmSync(hostDir, { recursive: true, force: true }));

    it("runs a pod: Running with an IP, the page served, upstream's status fields and events", async () => {
      const e = env();
      await e.createPod("web", {
        containers: [{ name: "web", image: BUSYBOX, command: ["httpd", "-f", "-p", "8080", "-h", "/www"] }],
      });
      const pod = await e.waitRunning("web");
      const status = pod.status ?? {};
      expect(status.podIP).toMatch(kind === "docker" ? /^\d+\.\d+\.\d+\.\d+$/ : /^10\.89\.\d+\.\d+$/);
      expect(status.podIPs).toEqual([{ ip: status.podIP }]);
      expect(status.hostIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(status.startTime).toBeTruthy();
      expect(status.qosClass).toBe("BestEffort");
      for (const type of ["PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"])
        expect(condition(pod, type)?.status, type).toBe("True");
      const web = containerStatus(pod, "web");
      expect(web).toMatchObject({ ready: true, started: true, restartCount: 0, image: BUSYBOX });
      expect(web?.containerID).toMatch(new RegExp(`^${e.scheme}://[0-9a-f]{64}$`));
      expect(web?.imageID).not.toBe("");
      const page = await waitFor(() => httpGet(status.podIP as string, 8080).catch(() => undefined), {
        what: `the page on ${status.podIP}:8080`,
        timeoutMs: 30_000,
      });
      expect(page).toContain("deckhand test page");
      // Events reach the API asynchronously (as upstream's recorder sends them): the container can serve
      // before its Started event is written.
      await e.waitEvent("web", (ev) => ev.reason === "Started", "Started");
      const reasons = (await e.events("web")).map((ev) => ev.reason);
      expect(reasons).toEqual(expect.arrayContaining(["Pulled", "Created", "Started"]));
      expect(reasons.indexOf("Created")).toBeLessThan(reasons.indexOf("Started"));
      const started = (await e.events("web")).find((ev) => ev.reason === "Started");
      expect(started?.message).toBe("Started container web");
      expect(started?.involvedObject?.fieldPath).toBe("spec.containers{web}");
    });

    it("two containers share localhost and an emptyDir", async () => {
      const e = env();
      await e.createPod("pair", {
        volumes: [{ name: "shared", emptyDir: {} }],
        containers: [
          {
            name: "server",
            image: BUSYBOX,
            command: ["httpd", "-f", "-p", "9090", "-h", "/www"],
          },
          shContainer("writer", `echo "from writer" > /shared/note; ${SLEEP_FOREVER}`, {
            volumeMounts: [{ name: "shared", mountPath: "/shared" }],
          }),
          shContainer("reader", SLEEP_FOREVER, { volumeMounts: [{ name: "shared", mountPath: "/data" }] }),
        ],
      });
      const pod = await e.waitRunning("pair");
      const page = await waitFor(
        () =>
          e
            .exec(pod, "reader", ["sh", "-c", "timeout 5 wget -qO- http://127.0.0.1:9090/"])
            .catch(() => undefined),
        { what: "the server container's page over localhost", timeoutMs: 30_000 },
      );
      expect(page).toContain("deckhand test page");
      expect(await e.exec(pod, "reader", ["cat", "/data/note"])).toBe("from writer\n");
      // The emptyDir lives under the agent's root dir, per pod.
      expect(await e.exec(pod, "reader", ["sh", "-c", "echo back > /data/reply"])).toBe("");
      expect(await e.exec(pod, "writer", ["cat", "/shared/reply"])).toBe("back\n");
    });

    it("runs init containers in order, each to success, before the app containers", async () => {
      const e = env();
      await e.createPod("inits", {
        volumes: [{ name: "work", emptyDir: {} }],
        initContainers: [
          // The first one is the slowest: if they overlapped, "second" would be written first.
          shContainer("first", "sleep 2; echo first >> /work/order", {
            volumeMounts: [{ name: "work", mountPath: "/work" }],
          }),
          shContainer("second", "echo second >> /work/order", {
            volumeMounts: [{ name: "work", mountPath: "/work" }],
          }),
        ],
        containers: [
          shContainer("app", `echo app >> /work/order; ${SLEEP_FOREVER}`, {
            volumeMounts: [{ name: "work", mountPath: "/work" }],
          }),
        ],
      });
      const pod = await e.waitRunning("inits");
      expect(await e.exec(pod, "app", ["cat", "/work/order"])).toBe("first\nsecond\napp\n");
      const inits = pod.status?.initContainerStatuses ?? [];
      expect(inits.map((s) => [s.name, s.state?.terminated?.reason, s.state?.terminated?.exitCode])).toEqual([
        ["first", "Completed", 0],
        ["second", "Completed", 0],
      ]);
      const [first, second] = inits;
      expect(Date.parse(first?.state?.terminated?.finishedAt ?? "")).toBeLessThanOrEqual(
        Date.parse(second?.state?.terminated?.startedAt ?? ""),
      );
      expect(condition(pod, "Initialized")?.status).toBe("True");
    });

    it("passes env from a ConfigMap and a Secret; a missing key fails only its own pod", async () => {
      const e = env();
      await e.apply(
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "settings" },
          data: { color: "blue", size: "L" },
        },
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "creds" },
          type: "Opaque",
          stringData: { password: "s3cret", token: "abc" },
        },
      );
      await e.createPod("broken-env", {
        containers: [
          shContainer("app", SLEEP_FOREVER, {
            env: [{ name: "NOPE", valueFrom: { configMapKeyRef: { name: "settings", key: "nope" } } }],
          }),
        ],
      });
      await e.createPod("envs", {
        containers: [
          shContainer("app", SLEEP_FOREVER, {
            env: [
              { name: "COLOR", valueFrom: { configMapKeyRef: { name: "settings", key: "color" } } },
              { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
              { name: "OPTIONAL", valueFrom: { secretKeyRef: { name: "creds", key: "x", optional: true } } },
              { name: "MIXED", value: "$(COLOR)-$(PASSWORD)" },
            ],
            envFrom: [
              { configMapRef: { name: "settings" }, prefix: "CM_" },
              { secretRef: { name: "creds" } },
            ],
          }),
        ],
      });
      const pod = await e.waitRunning("envs");
      const vars = Object.fromEntries(
        (await e.exec(pod, "app", ["env"]))
          .trim()
          .split("\n")
          .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
      expect(vars).toMatchObject({
        COLOR: "blue",
        PASSWORD: "s3cret",
        MIXED: "blue-s3cret",
        CM_color: "blue",
        CM_size: "L",
        password: "s3cret",
        token: "abc",
      });
      expect(vars.OPTIONAL).toBeUndefined();

      const broken = await e.waitPod(
        "broken-env",
        (p) => containerStatus(p, "app")?.state?.waiting?.reason === "CreateContainerConfigError",
        "waiting with CreateContainerConfigError",
      );
      expect(broken.status?.phase).toBe("Pending");
      expect(containerStatus(broken, "app")?.state?.waiting?.message).toBe(
        `couldn't find key nope in ConfigMap ${e.ns}/settings`,
      );
      const failed = await e.waitEvent(
        "broken-env",
        (ev) => ev.reason === "Failed" && ev.type === "Warning",
        "Warning Failed",
      );
      expect(failed.message).toBe(`Error: couldn't find key nope in ConfigMap ${e.ns}/settings`);
      // Fixing the ConfigMap lets the pod start (the agent retries on its own).
      await e.apply({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "settings" },
        data: { color: "blue", size: "L", nope: "now there" },
      });
      const fixed = await e.waitRunning("broken-env");
      expect(await e.exec(fixed, "app", ["sh", "-c", "echo $NOPE"])).toBe("now there\n");
    });

    it("applies resource limits to the container's cgroup and computes the QoS class", async () => {
      const e = env();
      await e.createPod("limited", {
        containers: [
          shContainer("app", SLEEP_FOREVER, {
            resources: {
              requests: { cpu: "250m", memory: "32Mi" },
              limits: { cpu: "500m", memory: "64Mi" },
            },
          }),
        ],
      });
      const pod = await e.waitRunning("limited");
      expect(pod.status?.qosClass).toBe("Burstable");
      const read = (v1: string, v2: string) =>
        e.exec(pod, "app", ["sh", "-c", `cat ${v1} 2>/dev/null || cat ${v2}`]).then((s) => s.trim());
      expect(await read("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory.max")).toBe(
        String(64 * 1024 * 1024),
      );
      const quota = await read(
        "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
        "/sys/fs/cgroup/cpu.max | cut -d' ' -f1",
      );
      expect(quota).toBe("50000");
      const shares = await read("/sys/fs/cgroup/cpu/cpu.shares", "/sys/fs/cgroup/cpu.weight");
      // cgroup v1: requests.cpu 250m → 256 shares; v2: the weight converted from 256 shares.
      expect(["256", "10"]).toContain(shares);
    });

    it("deletes a pod gracefully: preStop runs before SIGTERM, then the pod is gone", async () => {
      const e = env();
      const marker = join(hostDir, "prestop");
      await e.createPod("graceful", {
        terminationGracePeriodSeconds: 3,
        volumes: [{ name: "host", hostPath: { path: hostDir, type: "Directory" } }],
        containers: [
          shContainer(
            "app",
            "trap 'echo term >> /host/prestop; exit 0' TERM; while :; do sleep 1 & wait $!; done",
            {
              volumeMounts: [{ name: "host", mountPath: "/host" }],
              lifecycle: { preStop: { exec: { command: ["sh", "-c", "echo prestop >> /host/prestop"] } } },
            },
          ),
        ],
      });
      const pod = await e.waitRunning("graceful");
      const id = e.containerId(pod, "app");
      await e.deletePod("graceful");
      await e.waitGone("graceful");
      expect(readFileSync(marker, "utf8")).toBe("prestop\nterm\n");
      // Once the API has forgotten the pod, the agent removes its containers and sandbox.
      await waitFor(async () => (await e.runtime.listContainers({ id })).length === 0, {
        what: "the agent to remove the deleted pod's container",
        timeoutMs: 60_000,
      });
      const killing = (await e.events("graceful")).find((ev) => ev.reason === "Killing");
      expect(killing?.message).toBe("Stopping container app");
    });

    it("kills a container that ignores SIGTERM once the grace period is over", async () => {
      const e = env();
      await e.createPod("stubborn", {
        terminationGracePeriodSeconds: 2,
        containers: [shContainer("app", "trap '' TERM; while :; do sleep 1; done")],
      });
      const pod = await e.waitRunning("stubborn");
      const id = e.containerId(pod, "app");
      await e.deletePod("stubborn");
      const terminated = await waitFor(
        async () => {
          const status = await e.runtime.containerStatus(id).catch(() => undefined);
          return status?.state === "exited" ? status : undefined;
        },
        { what: "the container to be killed after the grace period", timeoutMs: 60_000, intervalMs: 200 },
      ).catch(() => undefined);
      // SIGKILL: 128 + 9 (unless the agent already removed the container, which is fine too).
      if (terminated) expect(terminated.exitCode).toBe(137);
      await e.waitGone("stubborn");
    });

    it("an invalid mount gets FailedMount with upstream's message; the pod waits, others run", async () => {
      const e = env();
      const missing = join(hostDir, "does-not-exist");
      await e.createPod("bad-mount", {
        volumes: [{ name: "data", hostPath: { path: missing, type: "Directory" } }],
        containers: [
          shContainer("app", SLEEP_FOREVER, { volumeMounts: [{ name: "data", mountPath: "/data" }] }),
        ],
      });
      await e.createPod("mount-neighbour", { containers: [shContainer("app", SLEEP_FOREVER)] });
      const event = await e.waitEvent("bad-mount", (ev) => ev.reason === "FailedMount", "FailedMount");
      expect(event.type).toBe("Warning");
      expect(event.message).toBe(
        `MountVolume.SetUp failed for volume "data" : hostPath type check failed: ${missing} is not a directory`,
      );
      const pod = await e.waitPod(
        "bad-mount",
        (p) => containerStatus(p, "app")?.state?.waiting?.reason === "ContainerCreating",
        "waiting in ContainerCreating",
      );
      expect(pod.status?.phase).toBe("Pending");
      await e.waitRunning("mount-neighbour");
    });

    it("honours restart policies: Always, OnFailure and Never", async () => {
      const e = env();
      await e.createPod("always", {
        restartPolicy: "Always",
        containers: [shContainer("app", "sleep 1; exit 0")],
      });
      await e.createPod("onfailure-ok", {
        restartPolicy: "OnFailure",
        containers: [shContainer("app", "exit 0")],
      });
      await e.createPod("onfailure-bad", {
        restartPolicy: "OnFailure",
        containers: [shContainer("app", "exit 3")],
      });
      await e.createPod("never-bad", {
        restartPolicy: "Never",
        containers: [shContainer("app", "exit 4")],
      });
      await e.createPod("never-ok", {
        restartPolicy: "Never",
        containers: [shContainer("app", "exit 0")],
      });

      const always = await e.waitPod(
        "always",
        (p) => (containerStatus(p, "app")?.restartCount ?? 0) >= 1,
        "restarted at least once",
      );
      expect(always.status?.phase).toBe("Running");
      expect(containerStatus(always, "app")?.lastState?.terminated).toMatchObject({
        exitCode: 0,
        reason: "Completed",
      });

      const okOnFailure = await e.waitPod(
        "onfailure-ok",
        (p) => p.status?.phase === "Succeeded",
        "Succeeded",
      );
      expect(containerStatus(okOnFailure, "app")).toMatchObject({ restartCount: 0, ready: false });
      expect(containerStatus(okOnFailure, "app")?.state?.terminated).toMatchObject({
        exitCode: 0,
        reason: "Completed",
      });

      const badOnFailure = await e.waitPod(
        "onfailure-bad",
        (p) => (containerStatus(p, "app")?.restartCount ?? 0) >= 1,
        "restarted after exit 3",
      );
      expect(badOnFailure.status?.phase).toBe("Running");
      expect(containerStatus(badOnFailure, "app")?.lastState?.terminated).toMatchObject({
        exitCode: 3,
        reason: "Error",
      });

      const badNever = await e.waitPod("never-bad", (p) => p.status?.phase === "Failed", "Failed");
      expect(containerStatus(badNever, "app")).toMatchObject({ restartCount: 0 });
      expect(containerStatus(badNever, "app")?.state?.terminated).toMatchObject({
        exitCode: 4,
        reason: "Error",
      });
      const okNever = await e.waitPod("never-ok", (p) => p.status?.phase === "Succeeded", "Succeeded");
      expect(containerStatus(okNever, "app")).toMatchObject({ restartCount: 0 });
      // Finished pods stay finished: no restart shows up later.
      const again = await e.getPod("never-bad");
      expect(containerStatus(again as Pod, "app")?.restartCount).toBe(0);
      expect(condition(okNever, "Ready")).toMatchObject({ status: "False", reason: "PodCompleted" });
    });

    it("rejects a pod that does not fit at node-side admission: Failed with OutOfcpu", async () => {
      const e = env();
      await e.createPod("too-big", {
        containers: [shContainer("app", SLEEP_FOREVER, { resources: { requests: { cpu: "1000" } } })],
      });
      const pod = await e.waitPod("too-big", (p) => p.status?.phase === "Failed", "Failed");
      expect(pod.status?.reason).toBe("OutOfcpu");
      expect(pod.status?.message).toMatch(
        /^Pod was rejected: Node didn't have enough resource: cpu, requested: 1000000, used: \d+, capacity: \d+$/,
      );
      const event = await e.waitEvent("too-big", (ev) => ev.reason === "OutOfcpu", "OutOfcpu");
      expect(event.type).toBe("Warning");
      expect(
        await e.runtime.listPodSandboxes({ labelSelector: { "io.kubernetes.pod.name": "too-big" } }),
      ).toEqual([]);
    });

    it("runs a pod that selects a label added to its Node after the agent started (it watches its Node)", async () => {
      const e = env();
      const label = "deckhand.test/added-later";
      await e.kubectl("label", "node", e.agent.nodeName, `${label}=present`);
      // No nodeName: the scheduler binds it once it sees the label, as for any user's pod.
      await e.createPod("late-label", {
        nodeName: undefined,
        nodeSelector: { [label]: "present" },
        containers: [shContainer("app", SLEEP_FOREVER)],
      });
      const pod = await e.waitRunning("late-label");
      expect(pod.spec?.nodeName).toBe(e.agent.nodeName);
      expect(pod.status?.reason).toBeUndefined();
    });

    it("a command the runtime cannot run gets RunContainerError and a Failed event; other pods run", async () => {
      const e = env();
      await e.createPod("bad-command", {
        containers: [{ name: "app", image: BUSYBOX, command: ["/no/such/binary"] }],
      });
      await e.createPod("good-neighbour", { containers: [shContainer("app", SLEEP_FOREVER)] });
      const bad = await e.waitPod(
        "bad-command",
        (p) => {
          const reason = containerStatus(p, "app")?.state?.waiting?.reason;
          return reason === "RunContainerError" || reason === "CrashLoopBackOff";
        },
        "waiting with RunContainerError (or CrashLoopBackOff after the first attempt)",
      );
      // Upstream's getPhase: restartPolicy Always and a container that will be retried is Running, not Ready.
      expect(containerStatus(bad, "app")?.ready).toBe(false);
      expect(condition(bad, "Ready")?.status).toBe("False");
      const failed = await e.waitEvent(
        "bad-command",
        (ev) => ev.reason === "Failed" && ev.type === "Warning",
        "Warning Failed",
      );
      expect(failed.message).toMatch(/^Error: .*\/no\/such\/binary/);
      await e.waitRunning("good-neighbour");
    });
  });
}
