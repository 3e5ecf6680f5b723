// Images through the whole agent: a missing image (ErrImagePull, then ImagePullBackOff), imagePullPolicy
// Always / IfNotPresent / Never against the local registry, and imagePullSecrets for the basic-auth registry.
// Every test publishes its own tag with its own image ID (../../runtime/conformance/registry.ts), so pulls
// and removals never touch what other test files use; the images are removed again afterwards.
import { afterAll, describe, expect, it } from "vitest";
import type { Pod } from "../../../src/api/schema/core/pod-types.ts";
import { deletePushedImage, type PushedImage, pushUniqueImage } from "../../runtime/conformance/registry.ts";
import { type AgentRuntimeKind, connectRuntime } from "../../support/agent.ts";
import { testEnv } from "../../support/env.ts";
import { uniqueName } from "../../support/names.ts";
import { waitFor } from "../../support/wait.ts";
import { type E2E, type KubeEvent, SLEEP_FOREVER, useE2E } from "./harness.ts";

const app = (pod: Pod) => pod.status?.containerStatuses?.find((c) => c.name === "app");
const total = (events: KubeEvent[], reason: string) =>
  events.filter((ev) => ev.reason === reason).reduce((sum, ev) => sum + (ev.count ?? 1), 0);

export function imageSuite(kind: AgentRuntimeKind): void {
  describe.concurrent(`agent images on ${kind}`, () => {
    const pushed: PushedImage[] = [];
    const publish = async (prefix: string) => {
      const image = await pushUniqueImage(
        testEnv.registry,
        testEnv.registryBusyboxRepo,
        testEnv.registryBusyboxTag,
        uniqueName(prefix),
      );
      pushed.push(image);
      return image;
    };
    // Registered before the environment, so it runs after the environment's teardown removed the pods.
    afterAll(async () => {
      const runtime = connectRuntime(kind);
      try {
        for (const image of pushed) {
          await runtime.removeImage(image.ref(testEnv.registry));
          await runtime.removeImage(image.ref(testEnv.authRegistry));
          await deletePushedImage(testEnv.registry, image);
        }
      } finally {
        await runtime.close();
      }
    });
    const env = useE2E(kind);

    const sleeper = (image: string, policy: string, extra: Record<string, unknown> = {}) => ({
      name: "app",
      image,
      imagePullPolicy: policy,
      command: ["sh", "-c", SLEEP_FOREVER],
      ...extra,
    });

    it("a missing image: ErrImagePull with the registry's answer, then ImagePullBackOff", async () => {
      const e = env();
      const image = `${testEnv.registry}/deckhand/nope:${uniqueName("missing")}`;
      await e.createPod("missing", { containers: [sleeper(image, "IfNotPresent")] });
      const pulling = await e.waitPod(
        "missing",
        (p) => app(p)?.state?.waiting?.reason === "ErrImagePull",
        "waiting with ErrImagePull",
      );
      // As upstream: the waiting message is the runtime's own error; the event says which image failed.
      const pullError = app(pulling)?.state?.waiting?.message ?? "";
      expect(pullError).toMatch(/not found|manifest unknown/i);
      expect(pulling.status?.phase).toBe("Pending");
      const backoff = await e.waitPod(
        "missing",
        (p) => app(p)?.state?.waiting?.reason === "ImagePullBackOff",
        "waiting with ImagePullBackOff",
      );
      expect(app(backoff)?.state?.waiting?.message).toMatch(
        new RegExp(
          `^Back-off pulling image "${escapeRegExp(image)}": ErrImagePull: .*(not found|manifest unknown)`,
          "i",
        ),
      );
      const event = await e.waitEvent("missing", (ev) => ev.reason === "BackOff", "BackOff");
      expect([event.type, event.message]).toEqual(["Normal", `Back-off pulling image "${image}"`]);
      await e.waitEvent(
        "missing",
        (ev) => ev.reason === "Failed" && ev.message === "Error: ImagePullBackOff",
        "Failed: Error: ImagePullBackOff",
      );
      // The back-off expires and the agent pulls again (and fails again): it never gets stuck in back-off.
      await waitForCount(e, "missing", "Pulling", 2);
      const all = await e.events("missing");
      expect(all.find((ev) => ev.reason === "Pulling")?.message).toBe(`Pulling image "${image}"`);
      const failures = all.filter((ev) => ev.reason === "Failed").map((ev) => ev.message);
      expect(failures).toEqual(
        expect.arrayContaining([
          expect.stringMatching(new RegExp(`^Failed to pull image "${escapeRegExp(image)}": `)),
          "Error: ErrImagePull",
          "Error: ImagePullBackOff",
        ]),
      );
    });

    it("imagePullPolicy Always pulls at every start; IfNotPresent then uses the image it has", async () => {
      const e = env();
      const image = (await publish("always")).ref(testEnv.registry);
      await e.createPod("always", {
        restartPolicy: "Always",
        containers: [{ name: "app", image, imagePullPolicy: "Always", command: ["sh", "-c", "sleep 1"] }],
      });
      await e.waitPod("always", (p) => (app(p)?.restartCount ?? 0) >= 1, "restarted once");
      await waitForCount(e, "always", "Pulled", 2);
      const events = await e.events("always");
      expect(total(events, "Pulling")).toBeGreaterThanOrEqual(2);
      for (const ev of events.filter((x) => x.reason === "Pulled"))
        expect(ev.message).toMatch(new RegExp(`^Successfully pulled image "${escapeRegExp(image)}" in `));

      await e.createPod("present", { containers: [sleeper(image, "IfNotPresent")] });
      const present = await e.waitRunning("present");
      expect(app(present)?.imageID).not.toBe("");
      await waitForCount(e, "present", "Pulled", 1); // events reach the API asynchronously
      const presentEvents = await e.events("present");
      expect(total(presentEvents, "Pulling")).toBe(0);
      expect(presentEvents.find((ev) => ev.reason === "Pulled")?.message).toBe(
        `Container image "${image}" already present on machine`,
      );
    });

    it("imagePullPolicy Never with the image absent: ErrImageNeverPull, never a pull", async () => {
      const e = env();
      // Published on the registry but never pulled: Never must not fetch it.
      const image = (await publish("never")).ref(testEnv.registry);
      await e.createPod("never", { containers: [sleeper(image, "Never")] });
      const pod = await e.waitPod(
        "never",
        (p) => app(p)?.state?.waiting?.reason === "ErrImageNeverPull",
        "waiting with ErrImageNeverPull",
      );
      const message = `Container image "${image}" is not present with pull policy of Never`;
      expect(app(pod)?.state?.waiting?.message).toBe(message);
      const event = await e.waitEvent(
        "never",
        (ev) => ev.reason === "ErrImageNeverPull",
        "ErrImageNeverPull",
      );
      expect([event.type, event.message]).toEqual(["Warning", message]);
      await e.waitEvent("never", (ev) => ev.reason === "Failed", "Failed");
      const all = await e.events("never");
      expect(all.find((ev) => ev.reason === "Failed")?.message).toBe("Error: ErrImageNeverPull");
      expect(total(all, "Pulling")).toBe(0);
      expect(await e.runtime.imageStatus(image)).toBeUndefined();
    });

    it("pulls from the basic-auth registry with a dockerconfigjson imagePullSecret, and fails without", async () => {
      const e = env();
      const image = (await publish("auth")).ref(testEnv.authRegistry);
      await e.kubectl(
        "create",
        "secret",
        "docker-registry",
        "regcred",
        "-n",
        e.ns,
        `--docker-server=${testEnv.authRegistry}`,
        `--docker-username=${testEnv.authRegistryUser}`,
        `--docker-password=${testEnv.authRegistryPassword}`,
      );
      await e.createPod("no-secret", { containers: [sleeper(image, "Always")] });
      const denied = await e.waitPod(
        "no-secret",
        (p) => ["ErrImagePull", "ImagePullBackOff"].includes(app(p)?.state?.waiting?.reason ?? ""),
        "an image pull error without credentials",
      );
      expect(app(denied)?.state?.waiting?.message).toMatch(
        /unauthorized|authentication required|no basic auth credentials|401/i,
      );

      await e.createPod("with-secret", {
        imagePullSecrets: [{ name: "regcred" }],
        containers: [sleeper(image, "Always")],
      });
      const pod = await e.waitRunning("with-secret");
      expect(app(pod)?.image).toBe(image);
      const pulled = (await e.events("with-secret")).find((ev) => ev.reason === "Pulled");
      expect(pulled?.message).toMatch(new RegExp(`^Successfully pulled image "${escapeRegExp(image)}"`));
    });
  });
}

async function waitForCount(e: E2E, pod: string, reason: string, count: number): Promise<void> {
  await waitFor(async () => total(await e.events(pod), reason) >= count, {
    what: `${count} ${reason} events on pod ${pod}`,
    timeoutMs: 120_000,
    intervalMs: 500,
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
