import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDocker } from "../support/docker.ts";
import { testEnv } from "../support/env.ts";
import { uniqueName } from "../support/names.ts";

describe("smoke: Docker engine", () => {
  let docker: Docker;
  const name = uniqueName("dh-smoke-docker");

  beforeAll(async () => {
    docker = await connectDocker();
  });

  afterAll(async () => {
    await docker
      ?.getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
  });

  it("answers ping and reports its version", async () => {
    const version = await docker.version();
    expect(version.ApiVersion).toMatch(/^1\.\d+$/);
  });

  it("runs the test busybox image to completion and returns its output", async () => {
    const container = await docker.createContainer({
      name,
      Image: testEnv.busyboxImage,
      Cmd: ["sh", "-c", "echo hello from $(hostname); exit 3"],
      Hostname: "smoke",
      Labels: { "deckhand.test": "smoke" },
    });
    await container.start();
    const result = (await container.wait()) as { StatusCode: number };
    expect(result.StatusCode).toBe(3);
    const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as Buffer;
    // Non-TTY logs are multiplexed: an 8-byte frame header precedes each chunk.
    expect(logs.subarray(8).toString()).toBe("hello from smoke\n");
    await container.remove();
    const left = await docker.listContainers({ all: true, filters: { name: [name] } });
    expect(left).toEqual([]);
  });
});
