import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireKubectl } from "../support/controlplane.ts";
import { connectDocker } from "../support/docker.ts";
import { testEnv } from "../support/env.ts";
import { freePort } from "../support/etcd.ts";
import { uniqueName } from "../support/names.ts";
import { run } from "../support/run.ts";
import { waitFor } from "../support/wait.ts";

const CLI = join(import.meta.dirname, "..", "..", "src", "cli", "main.ts");

describe("deckhand up (the quick start's single-node cluster)", () => {
  const nodeName = uniqueName("dh-up");
  const dataDir = mkdtempSync(join(tmpdir(), "deckhand-up-"));
  const kubeconfig = join(dataDir, "control-plane", "admin.kubeconfig");
  const cacheDir = join(dataDir, "kubectl-cache");
  let child: ChildProcess;
  let output = "";
  const kubectl = (...args: string[]) =>
    run(requireKubectl(), ["--kubeconfig", kubeconfig, "--cache-dir", cacheDir, ...args]).then(
      (r) => r.stdout,
    );

  beforeAll(async () => {
    await connectDocker();
    const port = await freePort();
    child = spawn(
      process.execPath,
      [
        CLI,
        "up",
        "--data-dir",
        dataDir,
        "--listen",
        `127.0.0.1:${port}`,
        "--node-name",
        nodeName,
        "--runtime",
        "docker",
        "--pod-infra-container-image",
        testEnv.pauseImage,
        // Other tests share this host: leave its iptables alone (the proxy is tested in namespaces).
        "--proxy-mode",
        "none",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitFor(() => output.includes("Deckhand is up"), {
      what: "deckhand up to print its banner",
      timeoutMs: 60_000,
    }).catch((error: Error) => {
      throw new Error(`${error.message}; its output so far:\n${output.slice(-3000)}`);
    });
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
    const docker = await connectDocker();
    for (const c of await docker.listContainers({
      all: true,
      filters: { label: [`io.deckhand.node=${nodeName}`] },
    })) {
      // The agent may still be removing it when it stops: Docker answers 409 "removal already in progress".
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch((error: { statusCode?: number }) => {
          if (error.statusCode !== 404 && error.statusCode !== 409) throw error;
        });
    }
    // Secret and projected volumes are tmpfs mounts the agent leaves in place when it stops (like kubelet).
    await run("sh", ["-c", `grep -o ' ${dataDir}/[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("prints where the kubeconfig is, and the node becomes Ready", async () => {
    expect(output).toContain(`export KUBECONFIG=${kubeconfig}`);
    await waitFor(
      async () =>
        (await kubectl(
          "get",
          "node",
          nodeName,
          "-o",
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        )) === "True",
      {
        what: "the node to be Ready",
        timeoutMs: 60_000,
      },
    );
  });

  it("runs a pod bound to the node and serves its page on the pod IP", async () => {
    const pod = uniqueName("web");
    await kubectl(
      "run",
      pod,
      `--image=${testEnv.busyboxImage}`,
      `--overrides={"spec":{"nodeName":"${nodeName}","terminationGracePeriodSeconds":2}}`,
      "--command",
      "--",
      "httpd",
      "-f",
      "-p",
      "8080",
      "-h",
      "/www",
    );
    const ip = await waitFor(
      async () => {
        const phase = await kubectl("get", "pod", pod, "-o", "jsonpath={.status.phase} {.status.podIP}");
        const [p, address] = phase.split(" ");
        return p === "Running" && address ? address : undefined;
      },
      { what: `pod ${pod} to run`, timeoutMs: 60_000 },
    );
    const page = await waitFor(async () => (await fetch(`http://${ip}:8080/`)).text(), {
      what: "the pod's page",
    });
    expect(page).toContain("deckhand test page");
    await kubectl("delete", "pod", pod, "--wait=true", "--timeout=60s");
  });
});
