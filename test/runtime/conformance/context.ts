// What every conformance section gets: the runtime under test, the suite options, and `withPod`, which
// gives a test its own pod and checks that the runtime is clean afterwards.
import type { Runtime } from "../../../src/runtime/types.ts";
import { testEnv } from "../../support/env.ts";
import { TestPod } from "./fixtures.ts";

export type ConformanceSection = "sandboxes" | "containers" | "exec" | "logs" | "images" | "stats" | "faults";

export const ALL_SECTIONS: readonly ConformanceSection[] = [
  "sandboxes",
  "containers",
  "exec",
  "logs",
  "images",
  "stats",
  "faults",
];

// "faults" also holds version/status: a runtime that answers at all.

export interface ConformanceTarget {
  runtime: Runtime;
  cleanup?(): Promise<void>;
}

export interface ConformanceOptions {
  /**
   * A runtime of the same driver talking to the given unix socket path (not the real one): used to check
   * the errors for a missing or refusing socket. The suite closes it.
   */
  connectTo(socketPath: string): Promise<Runtime> | Runtime;
  /** Which sections to register (default all), so a driver can spread the suite over several files. */
  sections?: readonly ConformanceSection[];
  /** A busybox image already present in the runtime; default deckhand.local/busybox:1.35. */
  busyboxImage?: string;
  /** Open registry (default 127.0.0.1:5000) and one with basic auth (default 127.0.0.1:5001). */
  registry?: string;
  authRegistry?: string;
  authUser?: string;
  authPassword?: string;
  /** Repository and tag on both registries that test images are copied from; default deckhand/busybox:1.35. */
  registryRepo?: string;
  registryTag?: string;
}

export interface ResolvedOptions extends Required<Omit<ConformanceOptions, "sections">> {
  sections: readonly ConformanceSection[];
}

export function resolveOptions(options: ConformanceOptions): ResolvedOptions {
  return {
    connectTo: options.connectTo,
    sections: options.sections ?? ALL_SECTIONS,
    busyboxImage: options.busyboxImage ?? testEnv.busyboxImage,
    registry: options.registry ?? testEnv.registry,
    authRegistry: options.authRegistry ?? testEnv.authRegistry,
    authUser: options.authUser ?? testEnv.authRegistryUser,
    authPassword: options.authPassword ?? testEnv.authRegistryPassword,
    registryRepo: options.registryRepo ?? testEnv.registryBusyboxRepo,
    registryTag: options.registryTag ?? testEnv.registryBusyboxTag,
  };
}

export interface SuiteContext {
  readonly options: ResolvedOptions;
  /** The runtime under test (available inside tests, after the suite's beforeAll). */
  runtime(): Runtime;
  /** Runs `body` with a fresh pod; removes what it created and asserts nothing with its UID is left. */
  withPod<T>(prefix: string, body: (pod: TestPod) => Promise<T>): Promise<T>;
}

export function createContext(options: ResolvedOptions, getRuntime: () => Runtime): SuiteContext {
  return {
    options,
    runtime: getRuntime,
    async withPod(prefix, body) {
      const pod = new TestPod(getRuntime(), options.busyboxImage, prefix);
      let result: Awaited<ReturnType<typeof body>>;
      try {
        result = await body(pod);
      } catch (error) {
        // The test's own failure is the one to report; still try to leave the runtime clean.
        await pod.dispose().catch(() => undefined);
        throw error;
      }
      await pod.dispose();
      return result;
    },
  };
}
