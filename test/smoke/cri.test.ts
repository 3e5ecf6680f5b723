import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CriClients, callUnary, createCriClients } from "../../src/runtime/cri/client.ts";
import { requireSocket, testEnv } from "../support/env.ts";
import { uniqueName } from "../support/names.ts";

describe("smoke: containerd over CRI", () => {
  let cri: CriClients;
  const podName = uniqueName("dh-smoke-cri");
  const podUid = `uid-${podName}`;

  beforeAll(() => {
    requireSocket(testEnv.criSocket, "test containerd (CRI)");
    cri = createCriClients(testEnv.criEndpoint);
  });

  afterAll(async () => {
    if (!cri) return;
    const left = await callUnary(cri.runtime, "ListPodSandbox", {
      filter: { label_selector: { "deckhand.test/pod": podName } },
    });
    for (const sandbox of left.items) {
      await callUnary(cri.runtime, "StopPodSandbox", { pod_sandbox_id: sandbox.id });
      await callUnary(cri.runtime, "RemovePodSandbox", { pod_sandbox_id: sandbox.id });
    }
    cri.close();
  });

  it("answers Version with the CRI v1 API", async () => {
    const version = await callUnary(cri.runtime, "Version", { version: "v1" });
    expect(version.runtime_name).toBe("containerd");
    expect(version.runtime_api_version).toBe("v1");
  });

  it("runs a pod sandbox with an IP from the test CNI network, then stops and removes it", async () => {
    const config = {
      metadata: { name: podName, uid: podUid, namespace: "deckhand-smoke", attempt: 0 },
      hostname: "smoke-cri",
      labels: { "deckhand.test/pod": podName },
      linux: {},
    };
    const { pod_sandbox_id: id } = await callUnary(
      cri.runtime,
      "RunPodSandbox",
      { config },
      { timeoutMs: 60_000 },
    );
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    const status = await callUnary(cri.runtime, "PodSandboxStatus", { pod_sandbox_id: id });
    expect(status.status?.state).toBe("SANDBOX_READY");
    expect(status.status?.network?.ip).toMatch(/^10\.89\.\d+\.\d+$/);

    await callUnary(cri.runtime, "StopPodSandbox", { pod_sandbox_id: id });
    const stopped = await callUnary(cri.runtime, "PodSandboxStatus", { pod_sandbox_id: id });
    expect(stopped.status?.state).toBe("SANDBOX_NOTREADY");

    await callUnary(cri.runtime, "RemovePodSandbox", { pod_sandbox_id: id });
    const left = await callUnary(cri.runtime, "ListPodSandbox", {
      filter: { label_selector: { "deckhand.test/pod": podName } },
    });
    expect(left.items).toEqual([]);
  });
});
