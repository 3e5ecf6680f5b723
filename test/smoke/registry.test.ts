import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectDocker, pullImage } from "../support/docker.ts";
import { testEnv } from "../support/env.ts";

// These two references belong to this file alone; other tests that pull use their own tags.
const openRef = `${testEnv.registry}/${testEnv.registryBusyboxRepo}:${testEnv.registryBusyboxTag}`;
const authRef = `${testEnv.authRegistry}/${testEnv.registryBusyboxRepo}:${testEnv.registryBusyboxTag}`;

async function removeTag(docker: Docker, ref: string): Promise<void> {
  await docker
    .getImage(ref)
    .remove({ noprune: true })
    .catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) throw error;
    });
}

describe("smoke: local registries", () => {
  let docker: Docker;

  beforeAll(async () => {
    docker = await connectDocker();
    await removeTag(docker, openRef);
    await removeTag(docker, authRef);
  });

  afterAll(async () => {
    if (!docker) return;
    await removeTag(docker, openRef);
    await removeTag(docker, authRef);
  });

  it("serves the busybox image on the open registry, and Docker pulls it", async () => {
    const catalog = await fetch(`http://${testEnv.registry}/v2/_catalog`);
    expect(catalog.status).toBe(200);
    expect(((await catalog.json()) as { repositories: string[] }).repositories).toContain(
      testEnv.registryBusyboxRepo,
    );
    await pullImage(docker, openRef);
    const image = await docker.getImage(openRef).inspect();
    expect(image.RepoTags).toContain(openRef);
  });

  it("requires basic auth on the second registry and accepts the test credentials", async () => {
    const anonymous = await fetch(`http://${testEnv.authRegistry}/v2/`);
    expect(anonymous.status).toBe(401);
    await expect(pullImage(docker, authRef)).rejects.toThrow(/no basic auth credentials|unauthorized/i);
    await pullImage(docker, authRef, {
      username: testEnv.authRegistryUser,
      password: testEnv.authRegistryPassword,
      serveraddress: testEnv.authRegistry,
    });
    const image = await docker.getImage(authRef).inspect();
    expect(image.RepoTags).toContain(authRef);
  });
});
