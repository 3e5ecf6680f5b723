// Capability test of the CRI client against the real test containerd started by scripts/setup-host.sh.

import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { type CriClients, CriError, callUnary, createCriClients } from "../../src/runtime/cri/client.js";

const ENDPOINT = process.env.DECKHAND_TEST_CRI_ENDPOINT ?? "unix:///run/deckhand-test/containerd.sock";

describe("CRI client against the test containerd", () => {
  let clients: CriClients | undefined;

  // Called by every test rather than in beforeAll, so a missing runtime fails each test (not skips it).
  function connect(): CriClients {
    const socket = ENDPOINT.replace(/^unix:\/\//, "");
    if (!existsSync(socket)) {
      throw new Error(
        `the test containerd socket ${socket} does not exist: run scripts/setup-host.sh before these tests`,
      );
    }
    clients ??= createCriClients(ENDPOINT);
    return clients;
  }

  afterAll(() => clients?.close());

  it("Version names containerd and the v1 runtime API", async () => {
    const cri = connect();
    const v = await callUnary(cri.runtime, "Version", { version: "v1" });
    expect(v.runtime_name).toBe("containerd");
    expect(v.runtime_api_version).toBe("v1");
    expect(v.runtime_version).not.toBe("");
  });

  it("Status reports RuntimeReady true", async () => {
    const cri = connect();
    const res = await callUnary(cri.runtime, "Status", { verbose: false });
    const ready = res.status?.conditions.find((c) => c.type === "RuntimeReady");
    expect(ready, JSON.stringify(res.status)).toBeDefined();
    expect(ready?.status).toBe(true);
  });

  it("ImageFsInfo answers on the shared connection", async () => {
    const cri = connect();
    const res = await callUnary(cri.image, "ImageFsInfo", {});
    expect(res.image_filesystems.length).toBeGreaterThan(0);
    expect(res.image_filesystems[0]?.fs_id?.mountpoint).not.toBe("");
  });

  it("a container that does not exist is CRI_NOT_FOUND", async () => {
    const cri = connect();
    const id = `deckhand-cri-client-test-${randomUUID()}`;
    const err = await callUnary(cri.runtime, "ContainerStatus", { container_id: id }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CriError);
    expect((err as CriError).code).toBe("CRI_NOT_FOUND");
    expect((err as CriError).message).toContain("RuntimeService/ContainerStatus");
  });
});

describe("CRI client errors without a runtime", () => {
  it("a missing socket is a CriError naming the endpoint and how to start containerd", async () => {
    const endpoint = `unix:///tmp/deckhand-cri-client-test-${randomUUID()}.sock`;
    const cri = createCriClients(endpoint);
    try {
      const err = await callUnary(cri.runtime, "Version", {}, { timeoutMs: 2_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CriError);
      const criErr = err as CriError;
      expect(criErr.code).toBe("CRI_UNAVAILABLE");
      expect(criErr.endpoint).toBe(endpoint);
      expect(criErr.message).toContain(endpoint);
      expect(criErr.message).toContain("RuntimeService/Version");
      expect(criErr.message).toMatch(/does not exist.*containerd.*scripts\/setup-host\.sh/);
    } finally {
      cri.close();
    }
  });

  it("accepts a bare socket path as the endpoint", () => {
    const cri = createCriClients(`/tmp/deckhand-cri-client-test-${randomUUID()}.sock`);
    expect(cri.endpoint).toMatch(/^unix:\/\/\/tmp\//);
    cri.close();
  });

  it("rejects an endpoint that is not a unix socket path, naming the accepted forms", () => {
    expect(() => createCriClients("tcp://127.0.0.1:1234")).toThrow(/unix:\/\/\/absolute\/path/);
    let thrown: unknown;
    try {
      createCriClients("relative.sock");
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(CriError);
    expect((thrown as CriError).code).toBe("CRI_INVALID_ENDPOINT");
  });
});
