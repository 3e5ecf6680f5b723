// The node's HTTP API end to end, on one real runtime: a throwaway control plane whose API server passes
// pods/log, exec, attach, portforward and nodes/proxy to a real `deckhand agent`, driven by real kubectl
// (WebSocket by default, SPDY/3.1 when forced, and kubectl 1.27, a client that speaks only SPDY for exec
// and port-forward), plus the agent's own endpoints (/healthz, /pods, /metrics, /stats/summary, 404s).
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentRuntimeKind } from "../../support/agent.ts";
import { getNode } from "../../support/agent.ts";
import { uniqueName } from "../../support/names.ts";
import { type TlsCredentials, tlsFetch } from "../../support/tls-fetch.ts";
import { waitFor } from "../../support/wait.ts";
import { type E2E, shContainer, useE2E } from "../e2e/harness.ts";
import { Kubectl, type KubectlCall, SPDY_ENV } from "./kubectl.ts";

const TEST_PAGE = "deckhand test page";
const TICK = "trap 'exit 0' TERM; i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.2; done";
const MAIN =
  "trap 'exit 0' TERM; for i in 1 2 3; do echo line-$i; done; echo err-line >&2; while :; do sleep 1 & wait $!; done";
// The first instance exits at once; the next one stays: after one restart, --previous has instance-1.
const CRASH_ONCE =
  "trap 'exit 0' TERM; n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; echo instance-$n; " +
  'if [ "$n" -eq 1 ]; then exit 1; fi; while :; do sleep 1 & wait $!; done';

export function nodeApiSuite(kind: AgentRuntimeKind): void {
  describe(`the node API through the control plane and kubectl (${kind})`, () => {
    const env = useE2E(kind);
    let kubectl: Kubectl;
    let nodeApi: string;
    /** The node API speaks HTTPS and wants a client certificate: the admin's (system:masters) will do. */
    let nodeTls: TlsCredentials;
    const nodeFetch = (url: string) => tlsFetch(url, {}, nodeTls);
    let ns: string;

    /** kubectl in the test namespace; never throws (tests assert the exit code). */
    const k = (args: string[], call?: KubectlCall) => kubectl.run(["-n", ns, ...args], call);
    const ok = async (args: string[], call?: KubectlCall) => {
      const result = await k(args, call);
      if (result.code !== 0)
        throw new Error(`kubectl ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
      return result.stdout;
    };

    /** The streaming sessions the agent opened since `offset` in its log: kind and negotiated protocol. */
    const streamsSince = (offset: number) =>
      env()
        .agent.logs()
        .slice(offset)
        .split("\n")
        .filter((line) => line.includes("stream opened"))
        .map((line) => JSON.parse(line) as { stream: string; protocol: string; msg: string })
        .map((e) => `${e.stream} ${e.msg.startsWith("SPDY") ? "SPDY" : "WebSocket"} ${e.protocol}`);

    beforeAll(async () => {
      const e: E2E = env();
      ns = e.ns;
      kubectl = new Kubectl(e.cp.kubeconfigPath);
      const node = (await getNode(e.cp, e.agent.nodeName)) as {
        status?: { daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
      };
      const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
      if (!port)
        throw new Error(`node ${e.agent.nodeName} reports no kubelet port: ${JSON.stringify(node.status)}`);
      nodeApi = `https://127.0.0.1:${port}`;
      nodeTls = {
        // The agent's self-signed serving certificate chain (its own CA last) is what to trust.
        ca: readFileSync(join(e.agent.rootDir, "pki", "deckhand-node.crt"), "utf8"),
        cert: e.cp.connection.clientCertificate?.toString(),
        key: e.cp.connection.clientKey?.toString(),
      };
      await e.createPod("app", {
        containers: [
          shContainer("main", MAIN),
          shContainer("ticker", TICK),
          {
            ...shContainer("web", "exec httpd -f -p 8080 -h /www"),
            ports: [{ name: "http", containerPort: 8080 }],
            readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
          },
        ],
      });
      await e.createPod("crash", {
        restartPolicy: "Always",
        volumes: [{ name: "data", emptyDir: {} }],
        containers: [shContainer("c", CRASH_ONCE, { volumeMounts: [{ name: "data", mountPath: "/data" }] })],
      });
      await e.waitPod(
        "app",
        (p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
        "Ready (every container running, web's readiness probe passing)",
      );
    }, 240_000);

    afterAll(() => kubectl?.dispose());

    it("serves kubectl logs: the whole log, --tail, --timestamps, --limit-bytes, --since", async () => {
      const expected = ["line-1", "line-2", "line-3", "err-line"];
      const all = await waitFor(
        async () => {
          const out = await ok(["logs", "app", "-c", "main"]);
          return expected.every((l) => out.split("\n").includes(l)) ? out : undefined;
        },
        { what: "all four lines in the log of app/main", timeoutMs: 60_000, intervalMs: 500 },
      );
      const lines = all.trimEnd().split("\n");
      expect(lines.slice().sort()).toEqual(expected.slice().sort());
      // stdout keeps its order whatever stderr does.
      expect(lines.filter((l) => l.startsWith("line-"))).toEqual(["line-1", "line-2", "line-3"]);

      expect((await ok(["logs", "app", "-c", "main", "--tail=2"])).trimEnd().split("\n")).toEqual(
        lines.slice(-2),
      );
      expect(await ok(["logs", "app", "-c", "main", "--tail=0"])).toBe("");

      const stamped = (await ok(["logs", "app", "-c", "main", "--timestamps"])).trimEnd().split("\n");
      expect(stamped).toHaveLength(4);
      for (const line of stamped)
        expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (line-\d|err-line)$/);

      const limited = await ok(["logs", "app", "-c", "main", "--limit-bytes=5"]);
      expect(limited).toBe(all.slice(0, 5));

      expect((await ok(["logs", "app", "-c", "main", "--since=1h"])).trimEnd().split("\n").sort()).toEqual(
        expected.slice().sort(),
      );

      // The API server validates the container before asking the node.
      const wrong = await k(["logs", "app", "-c", "nope"]);
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toContain("container nope is not valid for pod app");
    });

    it("follows a container's log with kubectl logs -f", async () => {
      const follow = kubectl.start(["-n", ns, "logs", "-f", "app", "-c", "ticker"]);
      try {
        const ticks = (out: string) =>
          out
            .split("\n")
            .filter((l) => /^tick-\d+$/.test(l))
            .map((l) => Number(l.slice(5)));
        // First the log so far, then lines as they are written: five more must arrive while following.
        const seen = await follow.waitForOutput((out) => {
          const t = ticks(out);
          return t.length > 0 ? t : undefined;
        }, "the log so far");
        const more = await follow.waitForOutput((out) => {
          const t = ticks(out);
          return (t.at(-1) as number) >= (seen.at(-1) as number) + 5 ? t : undefined;
        }, "five more lines");
        // Consecutive: nothing lost or duplicated while streaming.
        for (let i = 1; i < more.length; i++) expect(more[i]).toBe((more[i - 1] as number) + 1);
      } finally {
        await follow.stop();
      }
    });

    it("shows the previous instance with kubectl logs --previous after a restart", async () => {
      await env().waitPod(
        "crash",
        (p) =>
          (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 &&
          p.status?.containerStatuses?.[0]?.state?.running !== undefined,
        "restarted once and running again",
        180_000,
      );
      const current = await waitFor(
        async () => {
          const out = await ok(["logs", "crash"]);
          return out.includes("instance-") ? out : undefined;
        },
        { what: "the current instance's log line", timeoutMs: 30_000, intervalMs: 500 },
      );
      expect(current).toBe("instance-2\n");
      expect(await ok(["logs", "crash", "--previous"])).toBe("instance-1\n");
      const none = await k(["logs", "app", "-c", "main", "--previous"]);
      expect(none.code).not.toBe(0);
      expect(none.stderr).toContain('previous terminated container "main" in pod "app" not found');
    });

    it("runs kubectl exec over WebSocket: output, stderr, exit codes and stdin", async () => {
      const offset = env().agent.logs().length;
      const result = await k([
        "exec",
        "app",
        "-c",
        "main",
        "--",
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
      ]);
      expect(result.code).toBe(3);
      expect(result.stdout).toBe("out\n");
      expect(result.stderr).toContain("err\n");
      expect(result.stderr).toContain("command terminated with exit code 3");
      expect(await ok(["exec", "app", "-c", "main", "--", "echo", "hello"])).toBe("hello\n");
      // Stdin ends with the v5 CLOSE signal; cat sees EOF and exits.
      const payload = `${randomBytes(48 * 1024).toString("base64")}\nend\n`;
      expect(await ok(["exec", "-i", "app", "-c", "main", "--", "cat"], { input: payload })).toBe(payload);
      // The single-container default applies; a missing container is refused by the API server.
      expect(await ok(["exec", "crash", "--", "echo", "defaulted"])).toBe("defaulted\n");
      const missing = await k(["exec", "app", "-c", "nope", "--", "true"]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain("container nope is not valid for pod app");
      expect(new Set(streamsSince(offset))).toEqual(new Set(["exec WebSocket v5.channel.k8s.io"]));
    });

    it("runs kubectl exec -it with a terminal", async () => {
      const result = await kubectl.runInTerminal([
        "-n",
        ns,
        "exec",
        "-it",
        "app",
        "-c",
        "main",
        "--",
        "sh",
        "-c",
        "tty; [ -t 0 ] && echo stdin-is-a-tty; exit 4",
      ]);
      expect(result.stdout).toMatch(/\/dev\/pts\/\d+/);
      expect(result.stdout).toContain("stdin-is-a-tty");
      expect(result.code).toBe(4);
    });

    it("attaches to a running container's output with kubectl attach", async () => {
      const attach = kubectl.start(["-n", ns, "attach", "app", "-c", "ticker"]);
      try {
        // Output written after the attach started (the attach streams live output, not the log).
        const first = await attach.waitForOutput((out) => /tick-(\d+)/.exec(out)?.[1], "a tick line");
        await attach.waitForOutput(
          (out) => out.includes(`tick-${Number(first) + 3}`),
          "three more tick lines",
        );
      } finally {
        await attach.stop();
      }
    });

    it("copies files in and out with kubectl cp (exec + tar)", async () => {
      const dir = join(tmpdir(), uniqueName("deckhand-cp"));
      const local = `${dir}-in.txt`;
      const back = `${dir}-out.txt`;
      const content = `${randomBytes(20_000).toString("hex")}\n`;
      writeFileSync(local, content);
      try {
        await ok(["cp", local, `${ns}/app:/tmp/copied.txt`, "-c", "main"]);
        expect(await ok(["exec", "app", "-c", "main", "--", "cat", "/tmp/copied.txt"])).toBe(content);
        await ok(["cp", `${ns}/app:/tmp/copied.txt`, back, "-c", "main"]);
        expect(readFileSync(back, "utf8")).toBe(content);
      } finally {
        rmSync(local, { force: true });
        rmSync(back, { force: true });
      }
    });

    it("forwards a local port to busybox httpd in the pod with kubectl port-forward", async () => {
      const offset = env().agent.logs().length;
      await portForwardFetch(kubectl, ns, {});
      // kubectl 1.31+ tunnels the SPDY port-forward protocol through a WebSocket.
      expect(new Set(streamsSince(offset))).toEqual(
        new Set(["portForward WebSocket SPDY/3.1+portforward.k8s.io"]),
      );
    });

    it("works with SPDY/3.1 forced (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false, KUBECTL_PORT_FORWARD_WEBSOCKETS=false)", async () => {
      const call = { env: SPDY_ENV };
      const offset = env().agent.logs().length;
      const result = await k(["exec", "app", "-c", "main", "--", "sh", "-c", "echo spdy; exit 5"], call);
      expect(result.stdout).toBe("spdy\n");
      expect(result.code).toBe(5);
      const payload = `${randomBytes(30_000).toString("base64")}\n`;
      expect(await ok(["exec", "-i", "app", "-c", "main", "--", "cat"], { ...call, input: payload })).toBe(
        payload,
      );
      const tty = await kubectl.runInTerminal(
        ["-n", ns, "exec", "-it", "app", "-c", "main", "--", "sh", "-c", "tty; exit 6"],
        call,
      );
      expect(tty.stdout).toMatch(/\/dev\/pts\/\d+/);
      expect(tty.code).toBe(6);
      await portForwardFetch(kubectl, ns, call);
      expect(new Set(streamsSince(offset))).toEqual(
        new Set(["exec SPDY v5.channel.k8s.io", "portForward SPDY portforward.k8s.io"]),
      );
    });

    it("works with kubectl 1.27, a SPDY-only client for exec and port-forward", async () => {
      const call = { binary: "kubectl.1.27" };
      const offset = env().agent.logs().length;
      const result = await k(
        ["exec", "app", "-c", "main", "--", "sh", "-c", "echo old-client; exit 7"],
        call,
      );
      expect(result.stdout).toBe("old-client\n");
      expect(result.code).toBe(7);
      const payload = "from an older kubectl\n";
      expect(await ok(["exec", "-i", "app", "-c", "main", "--", "cat"], { ...call, input: payload })).toBe(
        payload,
      );
      expect(await ok(["logs", "app", "-c", "main", "--tail=1"], call)).toMatch(/^(line-3|err-line)\n$/);
      await portForwardFetch(kubectl, ns, call);
      expect(new Set(streamsSince(offset))).toEqual(
        new Set(["exec SPDY v4.channel.k8s.io", "portForward SPDY portforward.k8s.io"]),
      );
    });

    it("serves /healthz, /pods, /runningpods/ and nodes/proxy", async () => {
      const health = await nodeFetch(`${nodeApi}/healthz`);
      expect(health.status).toBe(200);
      expect((await health.text()).trim()).toBe("ok");
      const config = JSON.parse(readFileSync(join(dirname(env().agent.rootDir), "config.yaml"), "utf8")) as {
        healthzPort: number;
      };
      const healthz = await fetch(`http://127.0.0.1:${config.healthzPort}/healthz`);
      expect(healthz.status).toBe(200);

      const app = await env().getPod("app");
      const pods = (await (await nodeFetch(`${nodeApi}/pods`)).json()) as {
        kind: string;
        items: Array<{ metadata: { name: string; namespace: string; uid: string } }>;
      };
      expect(pods.kind).toBe("PodList");
      expect(pods.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(
        expect.arrayContaining([`${ns}/app`, `${ns}/crash`]),
      );
      expect(pods.items.find((p) => p.metadata.name === "app")?.metadata.uid).toBe(app?.metadata?.uid);

      const running = (await (await nodeFetch(`${nodeApi}/runningpods/`)).json()) as {
        items: Array<{ metadata: { name: string }; spec: { containers: Array<{ name: string }> } }>;
      };
      const appRunning = running.items.find((p) => p.metadata.name === "app");
      expect(appRunning?.spec.containers.map((c) => c.name).sort()).toEqual(["main", "ticker", "web"]);

      // The same endpoints through the API server's nodes/proxy.
      const proxied = await ok(["get", "--raw", `/api/v1/nodes/${env().agent.nodeName}/proxy/pods`]);
      expect((JSON.parse(proxied) as { kind: string }).kind).toBe("PodList");
      const healthzProxied = await ok([
        "get",
        "--raw",
        `/api/v1/nodes/${env().agent.nodeName}/proxy/healthz`,
      ]);
      expect(healthzProxied.trim()).toBe("ok");
    });

    it("answers 404 with a clear message for a missing pod or container", async () => {
      const noPod = await nodeFetch(`${nodeApi}/containerLogs/${ns}/nopod/main`);
      expect(noPod.status).toBe(404);
      expect(await noPod.text()).toContain('pod "nopod" does not exist');
      const noContainer = await nodeFetch(`${nodeApi}/containerLogs/${ns}/app/nope`);
      expect(noContainer.status).toBe(404);
      expect(await noContainer.text()).toContain('container "nope" not found in pod "app"');
      const unknown = await nodeFetch(`${nodeApi}/no/such/endpoint`);
      expect(unknown.status).toBe(404);
      // Streams too: the upgrade is refused before anything is upgraded.
      const exec = await upgradeStatus(nodeTls, `${nodeApi}/exec/${ns}/nopod/main?command=true&output=1`);
      expect(exec.status).toBe(404);
      expect(exec.body).toContain('pod "nopod" does not exist');
      const execContainer = await upgradeStatus(
        nodeTls,
        `${nodeApi}/exec/${ns}/app/nope?command=true&output=1`,
      );
      expect(execContainer.status).toBe(404);
      expect(execContainer.body).toContain('container "nope" not found in pod "app"');
      // Through the API server's nodes/proxy the agent's answer reaches the client as it is.
      const proxied = await env().cp.fetch(
        `/api/v1/nodes/${env().agent.nodeName}/proxy/containerLogs/${ns}/nopod/main`,
      );
      expect(proxied.status).toBe(404);
      expect(await proxied.text()).toContain('pod "nopod" does not exist');
    });

    it("exposes kubelet's metric names on /metrics and the probe counters on /metrics/probes", async () => {
      const text = await waitFor(
        async () => {
          const body = await (await nodeFetch(`${nodeApi}/metrics`)).text();
          return /kubelet_pod_start_duration_seconds_count [1-9]/.test(body) ? body : undefined;
        },
        {
          what: "a pod start observed in kubelet_pod_start_duration_seconds",
          timeoutMs: 60_000,
          intervalMs: 500,
        },
      );
      for (const name of [
        "kubelet_running_pods",
        'kubelet_running_containers{container_state="running"}',
        "kubelet_pod_start_duration_seconds_bucket",
        'kubelet_pod_worker_duration_seconds_count{operation_type="create"}',
        "kubelet_pleg_relist_duration_seconds_count",
        'kubelet_runtime_operations_total{operation_type="list_containers"}',
        'kubelet_runtime_operations_duration_seconds_bucket{le="0.005",operation_type="list_containers"}',
        "# TYPE kubelet_runtime_operations_errors_total counter",
        `kubelet_node_name{node="${env().agent.nodeName}"} 1`,
        "process_cpu_user_seconds_total",
        "process_resident_memory_bytes",
      ]) {
        expect(text, name).toContain(name);
      }
      const runningPods = Number(/^kubelet_running_pods (\d+)$/m.exec(text)?.[1]);
      expect(runningPods).toBeGreaterThanOrEqual(2);
      const runningContainers = Number(
        /^kubelet_running_containers\{container_state="running"\} (\d+)$/m.exec(text)?.[1],
      );
      expect(runningContainers).toBeGreaterThanOrEqual(4);

      const probes = await (await nodeFetch(`${nodeApi}/metrics/probes`)).text();
      expect(probes).toMatch(
        new RegExp(
          `prober_probe_total\\{probe_type="Readiness",result="successful",container="web",pod="app",namespace="${ns}",pod_uid="[^"]+"\\} [1-9]`,
        ),
      );
    });

    it("reports node and pod CPU, memory and filesystem on /stats/summary", async () => {
      type Summary = {
        node: {
          nodeName: string;
          cpu: { usageCoreNanoSeconds: number; usageNanoCores?: number };
          memory: { workingSetBytes: number; availableBytes: number };
          fs: { capacityBytes: number; availableBytes: number; usedBytes: number };
        };
        pods: Array<{
          podRef: { name: string; namespace: string; uid: string };
          containers: Array<{
            name: string;
            cpu?: { usageCoreNanoSeconds: number };
            memory?: { workingSetBytes: number };
          }>;
          cpu?: { usageCoreNanoSeconds: number; usageNanoCores?: number };
          memory?: { workingSetBytes: number };
          volume?: Array<{ name: string; usedBytes: number }>;
          "ephemeral-storage"?: { usedBytes: number; capacityBytes: number };
        }>;
      };
      const get = async () => (await (await nodeFetch(`${nodeApi}/stats/summary`)).json()) as Summary;
      await get();
      const summary = await waitFor(
        async () => {
          const s = await get();
          const app = s.pods.find((p) => p.podRef.name === "app");
          return s.node.cpu.usageNanoCores !== undefined && app?.cpu?.usageNanoCores !== undefined
            ? s
            : undefined;
        },
        { what: "CPU rates (a second sample) for the node and pod app", timeoutMs: 30_000, intervalMs: 1000 },
      );
      expect(summary.node.nodeName).toBe(env().agent.nodeName);
      expect(summary.node.cpu.usageCoreNanoSeconds).toBeGreaterThan(0);
      expect(summary.node.memory.workingSetBytes).toBeGreaterThan(0);
      expect(summary.node.memory.availableBytes).toBeGreaterThan(0);
      expect(summary.node.fs.capacityBytes).toBeGreaterThan(0);
      const app = summary.pods.find((p) => p.podRef.name === "app");
      expect(app?.podRef.namespace).toBe(ns);
      expect(app?.containers.map((c) => c.name).sort()).toEqual(["main", "ticker", "web"]);
      for (const c of app?.containers ?? []) {
        expect(c.cpu?.usageCoreNanoSeconds, c.name).toBeGreaterThan(0);
        expect(c.memory?.workingSetBytes, c.name).toBeGreaterThan(0);
      }
      expect(app?.memory?.workingSetBytes).toBeGreaterThan(0);
      expect(app?.["ephemeral-storage"]?.capacityBytes).toBeGreaterThan(0);
      const crash = summary.pods.find((p) => p.podRef.name === "crash");
      expect(crash?.volume?.map((v) => v.name)).toContain("data");
    });
  });
}

/** Runs kubectl port-forward to the pod's httpd, fetches the test page twice, stops it. */
async function portForwardFetch(kubectl: Kubectl, ns: string, call: KubectlCall): Promise<void> {
  const forward = kubectl.start(["-n", ns, "port-forward", "pod/app", ":8080"], call);
  try {
    const port = await forward.waitForOutput(
      (out) => /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out)?.[1],
      "the local port it forwards",
    );
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(30_000) });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain(TEST_PAGE);
    }
  } finally {
    await forward.stop();
  }
}

/** Sends a SPDY upgrade request and returns the (non-101) answer. */
function upgradeStatus(tls: TlsCredentials, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      method: "POST",
      headers: {
        Connection: "Upgrade",
        Upgrade: "SPDY/3.1",
        "X-Stream-Protocol-Version": "v4.channel.k8s.io",
      },
    });
    req.once("upgrade", (_res, socket) => {
      socket.destroy();
      reject(new Error(`${url} was upgraded; expected a refusal`));
    });
    req.once("response", (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.once("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once("error", reject);
    req.end();
  });
}
