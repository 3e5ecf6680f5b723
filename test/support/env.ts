import { existsSync } from "node:fs";

/** What scripts/setup-host.sh provides. Keep in step with that script. */
export const testEnv = {
  dockerSocket: "/var/run/docker.sock",
  criEndpoint: "unix:///run/deckhand-test/containerd.sock",
  criSocket: "/run/deckhand-test/containerd.sock",
  busyboxImage: "deckhand.local/busybox:1.35",
  pauseImage: "deckhand.local/pause:3.9",
  registry: "127.0.0.1:5000",
  authRegistry: "127.0.0.1:5001",
  authRegistryUser: "deckhand",
  authRegistryPassword: "deckhand-test",
  /** The busybox image as pushed to both registries (same storage). */
  registryBusyboxRepo: "deckhand/busybox",
  registryBusyboxTag: "1.35",
} as const;

const SETUP_HINT = "run `sudo scripts/setup-host.sh` (the README's test command does this for you)";

/** Throws a message naming the missing piece and how to get it; a missing prerequisite is a failure, not a skip. */
export function requirePrerequisite(ok: boolean, what: string, hint = SETUP_HINT): void {
  if (!ok) throw new Error(`test prerequisite missing: ${what}; ${hint}`);
}

export function requireRoot(): void {
  requirePrerequisite(
    process.getuid?.() === 0,
    "these tests need root (network namespaces, iptables, runtimes)",
  );
}

export function requireSocket(path: string, what: string): void {
  requirePrerequisite(existsSync(path), `${what} socket ${path} does not exist`);
}
