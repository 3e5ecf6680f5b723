// Probes through the whole agent, on one real runtime: liveness (HTTP 404, exec, closed TCP port) restarts the
// container with upstream's Unhealthy and Killing events; readiness flips the container's `ready` and the
// pod's ContainersReady/Ready both ways; a startup probe holds liveness and readiness back until it passes; a
// probe that does not answer within timeoutSeconds fails; HTTP probes send httpHeaders and kube-probe's
// User-Agent, resolve named ports and speak HTTPS without verifying the certificate. HTTP and TCP probes go
// from the agent (the node) to the pod IP inside the runtime's network; the HTTPS one goes to a server this
// test runs on loopback (httpGet.host). Periods are 1 s and thresholds small; the tests count probe results
// and restarts, never time.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { KUBERNETES_VERSION } from "../../../src/version.ts";
import type { AgentRuntimeKind } from "../../support/agent.ts";
import { run } from "../../support/run.ts";
import { waitFor } from "../../support/wait.ts";
import { BUSYBOX, type KubeEvent, SLEEP_FOREVER, shContainer, useE2E } from "./harness.ts";

const status = (pod: Pod, name = "app") => pod.status?.containerStatuses?.find((c) => c.name === name);
const condition = (pod: Pod, type: string) => pod.status?.conditions?.find((c) => c.type === type)?.status;
// Generous timeouts: on a loaded machine a Docker exec can take many seconds (the timeout test sets its own).
const fast = { periodSeconds: 1, timeoutSeconds: 30 };
/** Per-test bound on a hang, for a shared machine under heavy load; not a speed assertion. */
const HANG = 300_000;
/** httpd serving /www (the image's test page) on 8080, as PID 1 of the container. */
const httpd = (extra: Record<string, unknown> = {}) => ({
  name: "app",
  image: BUSYBOX,
  imagePullPolicy: "IfNotPresent",
  command: ["httpd", "-f", "-p", "8080", "-h", "/www"],
  ...extra,
});
const total = (events: KubeEvent[], reason: string, text = "") =>
  events
    .filter((e) => e.reason === reason && (e.message ?? "").includes(text))
    .reduce((sum, e) => sum + (e.count ?? 1), 0);

export function probeSuite(kind: AgentRuntimeKind): void {
  describe.concurrent(`agent probes on ${kind}`, () => {
    const env = useE2E(kind);

    /** Waits for a liveness restart and checks upstream's events for it. */
    async function expectLivenessRestart(pod: string, failure: RegExp): Promise<Pod> {
      const e = env();
      const restarted = await e.waitPod(
        pod,
        (p) => (status(p)?.restartCount ?? 0) >= 1,
        "the app container restarted by its liveness probe",
      );
      // Not necessarily the first failure: a probe may run before the server in the container listens.
      const prefix = "Liveness probe failed: ";
      const unhealthy = await e.waitEvent(
        pod,
        (ev) =>
          ev.reason === "Unhealthy" &&
          (ev.message ?? "").startsWith(prefix) &&
          new RegExp(failure).test((ev.message ?? "").slice(prefix.length)),
        `Unhealthy: ${prefix}${failure}`,
      );
      expect(unhealthy.type).toBe("Warning");
      expect(unhealthy.involvedObject?.fieldPath).toBe("spec.containers{app}");
      const killing = await e.waitEvent(pod, (ev) => ev.reason === "Killing", "Killing");
      expect(killing).toMatchObject({
        type: "Normal",
        message: "Container app failed liveness probe, will be restarted",
        involvedObject: { fieldPath: "spec.containers{app}" },
      });
      return restarted;
    }

    it(
      "an HTTP liveness probe on a path that answers 404 restarts the container, again and again",
      async () => {
        const e = env();
        await e.createPod("live-http", {
          containers: [
            httpd({
              livenessProbe: { httpGet: { path: "/missing", port: 8080 }, failureThreshold: 2, ...fast },
            }),
          ],
        });
        const pod = await expectLivenessRestart("live-http", /^HTTP probe failed with statuscode: 404$/);
        expect(status(pod)?.lastState?.terminated).toBeDefined();
        // restartCount keeps climbing (the second restart waits out the crash-loop back-off, as upstream).
        await e.waitPod("live-http", (p) => (status(p)?.restartCount ?? 0) >= 2, "restartCount 2", 180_000);
        // Events are written after the status (and aggregated into a count): wait for the second Killing.
        await waitFor(async () => total(await e.events("live-http"), "Killing") >= 2, {
          what: "a second Killing event",
          timeoutMs: 60_000,
          intervalMs: 500,
        });
      },
      HANG,
    );

    it(
      "an exec liveness probe whose command fails restarts the container",
      async () => {
        const e = env();
        await e.createPod("live-exec", {
          containers: [
            shContainer("app", SLEEP_FOREVER, {
              livenessProbe: {
                exec: { command: ["sh", "-c", "echo not healthy; exit 1"] },
                failureThreshold: 2,
                ...fast,
              },
            }),
          ],
        });
        await expectLivenessRestart("live-exec", /^not healthy\s*$/);
      },
      HANG,
    );

    it(
      "a TCP liveness probe to a closed port restarts the container",
      async () => {
        const e = env();
        await e.createPod("live-tcp", {
          containers: [httpd({ livenessProbe: { tcpSocket: { port: 8081 }, failureThreshold: 2, ...fast } })],
        });
        const pod = await expectLivenessRestart(
          "live-tcp",
          /^dial tcp [\d.]+:8081: connect: connection refused$/,
        );
        expect((await e.events("live-tcp")).find((ev) => ev.reason === "Unhealthy")?.message).toContain(
          `${pod.status?.podIP}:8081`,
        );
      },
      HANG,
    );

    it(
      "passing HTTP and TCP liveness probes leave the container alone",
      async () => {
        const e = env();
        await e.createPod("live-ok", {
          containers: [
            httpd({
              ports: [{ name: "web", containerPort: 8080 }],
              livenessProbe: { httpGet: { path: "/", port: "web" }, failureThreshold: 3, ...fast },
              readinessProbe: { tcpSocket: { port: 8080 }, ...fast },
            }),
          ],
        });
        await e.waitPod("live-ok", (p) => status(p)?.ready === true, "ready (TCP readiness passing)");
        // Each probe has run many times by now: the counter on the node API shows it; nothing was restarted.
        const metrics = await waitFor(
          async () => {
            const text = (
              await e.cp.kubectl(["get", "--raw", `/api/v1/nodes/${e.agent.nodeName}/proxy/metrics/probes`])
            ).stdout;
            const line = text
              .split("\n")
              .find(
                (l) =>
                  l.startsWith(
                    'prober_probe_total{probe_type="Liveness",result="successful",container="app",pod="live-ok"',
                  ) && Number(l.split(" ").pop()) >= 5,
              );
            return line;
          },
          {
            what: "5 successful liveness probes of live-ok in /metrics/probes",
            timeoutMs: 60_000,
            intervalMs: 1000,
          },
        );
        expect(metrics).toContain(`namespace="${e.ns}"`);
        const pod = await e.getPod("live-ok");
        expect(status(pod as Pod)?.restartCount).toBe(0);
        expect(total(await e.events("live-ok"), "Unhealthy")).toBe(0);
      },
      HANG,
    );

    it(
      "readiness flips the container's ready and the pod's Ready condition both ways",
      async () => {
        const e = env();
        await e.createPod("ready-flip", {
          containers: [
            httpd({
              ports: [{ name: "http", containerPort: 8080 }],
              readinessProbe: { httpGet: { path: "/ready", port: "http" }, failureThreshold: 1, ...fast },
            }),
          ],
        });
        let pod = await e.waitRunning("ready-flip");
        expect(status(pod)?.ready).toBe(false);
        expect(condition(pod, "Ready")).toBe("False");
        expect(condition(pod, "ContainersReady")).toBe("False");
        await e.waitEvent(
          "ready-flip",
          (ev) =>
            ev.reason === "Unhealthy" &&
            ev.message === "Readiness probe failed: HTTP probe failed with statuscode: 404",
          "Readiness probe failed with 404",
        );

        await e.exec(pod, "app", ["touch", "/www/ready"]);
        pod = await e.waitPod(
          "ready-flip",
          (p) => status(p)?.ready === true && condition(p, "Ready") === "True",
          "Ready after /ready appeared",
        );
        expect(condition(pod, "ContainersReady")).toBe("True");

        await e.exec(pod, "app", ["rm", "/www/ready"]);
        pod = await e.waitPod(
          "ready-flip",
          (p) => status(p)?.ready === false && condition(p, "Ready") === "False",
          "not Ready after /ready went away",
        );
        expect(condition(pod, "ContainersReady")).toBe("False");
        expect(pod.status?.conditions?.find((c) => c.type === "Ready")?.reason).toBe("ContainersNotReady");
        // Readiness never restarts a container.
        expect(status(pod)?.restartCount).toBe(0);
        expect(status(pod)?.state?.running).toBeDefined();

        await e.exec(pod, "app", ["touch", "/www/ready"]);
        await e.waitPod("ready-flip", (p) => condition(p, "Ready") === "True", "Ready again");
      },
      HANG,
    );

    it(
      "a startup probe holds liveness and readiness back until it succeeds",
      async () => {
        const e = env();
        await e.createPod("startup", {
          containers: [
            httpd({
              startupProbe: {
                exec: { command: ["sh", "-c", "test -f /tmp/started || { echo starting; exit 1; }"] },
                failureThreshold: 1000,
                ...fast,
              },
              livenessProbe: { httpGet: { path: "/missing", port: 8080 }, failureThreshold: 1, ...fast },
              readinessProbe: { exec: { command: ["true"] }, ...fast },
            }),
          ],
        });
        let pod = await e.waitRunning("startup");
        // Several startup failures, each a period apart: more periods than liveness would need to fail.
        await waitFor(
          async () => total(await e.events("startup"), "Unhealthy", "Startup probe failed: starting") >= 4,
          { what: "4 failed startup probes", timeoutMs: 60_000, intervalMs: 500 },
        );
        pod = (await e.getPod("startup")) as Pod;
        expect(status(pod)).toMatchObject({ started: false, ready: false, restartCount: 0 });
        expect(condition(pod, "Ready")).toBe("False");
        const early = await e.events("startup");
        expect(total(early, "Unhealthy", "Liveness probe failed")).toBe(0);
        expect(total(early, "Killing")).toBe(0);

        // Startup passes: readiness runs (ready), then liveness runs too and restarts the container (404).
        await e.exec(pod, "app", ["touch", "/tmp/started"]);
        // started=true can last a moment only: liveness (threshold 1) then restarts the container, and the
        // status manager may write the newer status first. A liveness restart shows the startup probe passed
        // too, since liveness is held back until it does.
        await e.waitPod(
          "startup",
          (p) => status(p)?.started === true || (status(p)?.restartCount ?? 0) >= 1,
          "started after the startup probe passed (or restarted by liveness, which runs only after it)",
        );
        pod = await expectLivenessRestart("startup", /statuscode: 404/);
        // The new container instance starts over with its startup probe (no /tmp/started in its filesystem).
        await e.waitPod(
          "startup",
          (p) =>
            status(p)?.restartCount === 1 &&
            status(p)?.state?.running !== undefined &&
            status(p)?.started === false,
          "the restarted container not started yet",
        );
      },
      HANG,
    );

    it(
      "a probe that does not answer within timeoutSeconds fails (HTTP and exec)",
      async () => {
        const e = env();
        await e.createPod("slow", {
          containers: [
            // Accepts every connection on 8080 and never answers (each one held open by a `sleep`).
            shContainer("app", "exec nc -ll -p 8080 -e sleep 30", {
              readinessProbe: {
                httpGet: { path: "/", port: 8080 },
                failureThreshold: 1,
                ...fast,
                timeoutSeconds: 1,
              },
            }),
            shContainer("side", SLEEP_FOREVER, {
              readinessProbe: {
                exec: { command: ["sleep", "5"] },
                failureThreshold: 1,
                ...fast,
                timeoutSeconds: 1,
              },
            }),
          ],
        });
        await e.waitRunning("slow");
        // Any failure before nc listens is "connection refused"; the one looked for is the timeout.
        const deadline =
          /^Readiness probe failed: Get "http:\/\/[\d.]+:8080\/": context deadline exceeded \(Client\.Timeout exceeded while awaiting headers\)$/;
        await e.waitEvent(
          "slow",
          (ev) =>
            ev.reason === "Unhealthy" &&
            ev.involvedObject?.fieldPath === "spec.containers{app}" &&
            deadline.test(ev.message ?? ""),
          "app's readiness probe timing out",
        );
        const exec = await e.waitEvent(
          "slow",
          (ev) => ev.reason === "Unhealthy" && ev.involvedObject?.fieldPath === "spec.containers{side}",
          "side's exec readiness probe timing out",
        );
        expect(exec.message).toBe('Readiness probe failed: command "sleep 5" timed out');
        const pod = (await e.getPod("slow")) as Pod;
        expect(status(pod, "app")?.ready).toBe(false);
        expect(status(pod, "side")?.ready).toBe(false);
      },
      HANG,
    );

    it(
      "HTTP probes send httpHeaders and kube-probe's User-Agent",
      async () => {
        const e = env();
        // A one-line HTTP server that keeps the last request it got.
        const serve =
          "while :; do printf 'HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok' | nc -l -p 8080 > /tmp/req.new; mv /tmp/req.new /tmp/req; done";
        await e.createPod("headers", {
          containers: [
            shContainer("app", serve, {
              readinessProbe: {
                httpGet: {
                  path: "/healthz?full=1",
                  port: 8080,
                  httpHeaders: [
                    { name: "X-Probe", value: "deckhand" },
                    { name: "Accept", value: "application/json" },
                  ],
                },
                ...fast,
              },
            }),
          ],
        });
        const pod = await e.waitPod("headers", (p) => status(p)?.ready === true, "ready");
        const request = await waitFor(
          async () => (await e.exec(pod, "app", ["cat", "/tmp/req"])) || undefined,
          { what: "a recorded probe request", timeoutMs: 30_000, intervalMs: 500 },
        );
        const lines = request.split("\r\n");
        expect(lines[0]).toBe("GET /healthz?full=1 HTTP/1.1");
        const headers = new Map(
          lines
            .slice(1)
            .filter(Boolean)
            .map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
        );
        expect(headers.get("x-probe")).toBe("deckhand");
        expect(headers.get("accept")).toBe("application/json");
        expect(headers.get("user-agent")).toBe(
          `kube-probe/${KUBERNETES_VERSION.major}.${KUBERNETES_VERSION.minor}`,
        );
        expect(headers.get("host")).toBe(`${pod.status?.podIP}:8080`);
      },
      HANG,
    );

    describe("scheme HTTPS", () => {
      let server: https.Server | undefined;
      let port = 0;
      let healthy = false;
      const dir = mkdtempSync(join(tmpdir(), "deckhand-probe-tls-"));
      beforeAll(async () => {
        // A self-signed certificate: probes must not verify it.
        await run("openssl", [
          "req",
          "-x509",
          "-newkey",
          "ec",
          "-pkeyopt",
          "ec_paramgen_curve:prime256v1",
          "-nodes",
          "-keyout",
          join(dir, "key.pem"),
          "-out",
          join(dir, "cert.pem"),
          "-days",
          "1",
          "-subj",
          "/CN=probe-test",
        ]);
        server = https.createServer(
          { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
          (req, res) => {
            res.writeHead(req.url === "/healthz" && healthy ? 200 : 503);
            res.end();
          },
        );
        await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
        port = (server.address() as AddressInfo).port;
      });
      afterAll(async () => {
        await new Promise((resolve) => server?.close(resolve));
        rmSync(dir, { recursive: true, force: true });
      });

      it(
        "a readiness probe with scheme HTTPS and host reaches a TLS server with a self-signed certificate",
        async () => {
          const e = env();
          await e.createPod("tls", {
            containers: [
              shContainer("app", SLEEP_FOREVER, {
                readinessProbe: {
                  httpGet: { scheme: "HTTPS", host: "127.0.0.1", path: "/healthz", port },
                  failureThreshold: 1,
                  ...fast,
                },
              }),
            ],
          });
          await e.waitEvent(
            "tls",
            (ev) =>
              ev.reason === "Unhealthy" &&
              ev.message === "Readiness probe failed: HTTP probe failed with statuscode: 503",
            "Readiness probe failed with 503 over TLS",
          );
          healthy = true;
          await e.waitPod(
            "tls",
            (p) => condition(p, "Ready") === "True",
            "Ready once the TLS server answers 200",
          );
        },
        HANG,
      );
    });
  });
}
