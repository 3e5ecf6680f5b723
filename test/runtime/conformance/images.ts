// Conformance: pulls from the open and the basic-auth registry, image status/list/remove, unknown images,
// image filesystem usage. Every test publishes its own tag with its own image ID (./registry.ts).
import { describe, expect, it } from "vitest";
import { RuntimeError } from "../../../src/runtime/errors.ts";
import { uniqueName } from "../../support/names.ts";
import type { SuiteContext } from "./context.ts";
import { waitForState } from "./fixtures.ts";
import { deletePushedImage, type PushedImage, pushUniqueImage } from "./registry.ts";

export function imageTests(ctx: SuiteContext): void {
  const o = ctx.options;

  /** Publishes a private image, runs `body`, then removes it from the runtime and the registry. */
  async function withImage(prefix: string, body: (image: PushedImage) => Promise<void>): Promise<void> {
    const image = await pushUniqueImage(o.registry, o.registryRepo, o.registryTag, uniqueName(prefix));
    try {
      await body(image);
    } finally {
      const rt = ctx.runtime();
      await rt.removeImage(image.ref(o.registry)).catch(() => undefined);
      await rt.removeImage(image.ref(o.authRegistry)).catch(() => undefined);
      await deletePushedImage(o.registry, image);
    }
  }

  describe("images", () => {
    it("pulls from the local registry; reports, lists, runs and removes the image", async () => {
      await withImage("pull", async (image) => {
        const rt = ctx.runtime();
        const ref = image.ref(o.registry);
        expect(await rt.imageStatus(ref)).toBeUndefined();
        const imageRef = await rt.pullImage(ref);
        const status = await rt.imageStatus(ref);
        expect(status, `imageStatus(${ref}) after the pull`).toBeDefined();
        expect(status?.id).toBe(imageRef);
        expect(status?.id).toBe(image.configDigest);
        expect(status?.repoTags).toContain(ref);
        expect(status?.sizeBytes).toBeGreaterThan(0);
        expect((await rt.listImages()).map((i) => i.id)).toContain(imageRef);

        await ctx.withPod("img-run", async (pod) => {
          const sandbox = await pod.runSandbox();
          const id = await pod.startContainer(sandbox, {
            ...pod.containerConfig("pulled", "exit 0"),
            image: ref,
          });
          const s = await waitForState(rt, id, "exited");
          expect([s.exitCode, s.imageRef !== ""]).toEqual([0, true]);
          expect(s.image).toBe(ref);
        });

        await rt.removeImage(ref);
        expect(await rt.imageStatus(ref)).toBeUndefined();
        await rt.removeImage(ref);
      });
    });

    it("pulls from a registry with basic auth only with valid credentials", async () => {
      await withImage("pull-auth", async (image) => {
        const rt = ctx.runtime();
        const ref = image.ref(o.authRegistry);
        const anonymous = await rt.pullImage(ref).catch((e: unknown) => e);
        expect(anonymous).toBeInstanceOf(RuntimeError);
        expect((anonymous as RuntimeError).code).toBe("RUNTIME_IMAGE_PULL");
        expect((anonymous as RuntimeError).message).toContain(ref);
        const wrong = await rt
          .pullImage(ref, { username: o.authUser, password: "wrong-password" })
          .catch((e: unknown) => e);
        expect((wrong as RuntimeError).code).toBe("RUNTIME_IMAGE_PULL");
        expect(await rt.imageStatus(ref)).toBeUndefined();

        const imageRef = await rt.pullImage(ref, { username: o.authUser, password: o.authPassword });
        expect(imageRef).toBe(image.configDigest);
        expect((await rt.imageStatus(ref))?.repoTags).toContain(ref);
      });
    });

    it("an unknown image fails naming the image and the registry's answer", async () => {
      const rt = ctx.runtime();
      const ref = `${o.registry}/${o.registryRepo}:${uniqueName("missing")}`;
      const error = await rt.pullImage(ref).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).code).toBe("RUNTIME_IMAGE_PULL");
      expect((error as RuntimeError).message).toContain(ref);
      expect((error as RuntimeError).message).toMatch(/not found|unknown/i);
      expect(await rt.imageStatus(ref)).toBeUndefined();

      await ctx.withPod("img-missing", async (pod) => {
        const sandbox = await pod.runSandbox();
        const create = await rt
          .createContainer(
            sandbox.id,
            { ...pod.containerConfig("missing", "true"), image: ref },
            sandbox.config,
          )
          .catch((e: unknown) => e);
        expect(create).toBeInstanceOf(RuntimeError);
        expect((create as RuntimeError).message).toContain(ref);
        expect(await rt.listContainers({ podSandboxId: sandbox.id })).toEqual([]);
      });
    });

    it("reports image filesystem usage", async () => {
      const usage = await ctx.runtime().imageFsInfo();
      expect(usage.length).toBeGreaterThan(0);
      expect(usage[0]?.mountpoint).toMatch(/^\//);
      expect(usage[0]?.usedBytes).toBeGreaterThan(0);
      expect(usage[0]?.timestampMs).toBeGreaterThan(0);
    });
  });
}
