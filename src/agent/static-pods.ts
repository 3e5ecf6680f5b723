// The static-pod source: one pod per manifest file in a directory, watched with chokidar plus a periodic
// rescan (kubelet's fileCheckFrequency, 20 s). Pods are named <name>-<node>, get a UID derived from their
// content (an edit is a new pod: the old one stops, the new one starts) and kubelet's config annotations.
// A malformed or invalid manifest is reported once per content and never affects the other files. Reading
// one manifest into its pod is static-pod-manifest.ts.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { watch } from "chokidar";
import type { Pod } from "../api/schema/core/pod-types.ts";
import { type Clock, systemClock } from "../util/clock.ts";

export const ConfigAnnotations = {
  source: "kubernetes.io/config.source",
  hash: "kubernetes.io/config.hash",
  seen: "kubernetes.io/config.seen",
  mirror: "kubernetes.io/config.mirror",
} as const;

export interface ManifestProblem {
  file: string;
  message: string;
}

export interface StaticPodSourceOptions {
  dir: string;
  nodeName: string;
  /** Rescan period besides file-watch events (default 20 s). */
  rescanMs?: number;
  clock?: Clock;
  /** The complete set of static pods, whenever it changed (and once after the first scan). */
  onPods(pods: Pod[]): void;
  /** A manifest that cannot be used; reported once per file content. */
  onProblem(problem: ManifestProblem): void;
}

export function isStaticPod(pod: Pod): boolean {
  return pod.metadata?.annotations?.[ConfigAnnotations.source] === "file";
}

export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata?.annotations?.[ConfigAnnotations.mirror] !== undefined;
}

export class StaticPodSource {
  private readonly options: StaticPodSourceOptions;
  private readonly clock: Clock;
  /** Pods by file, with the text they came from (a rescan of unchanged files keeps the same objects). */
  private readonly byFile = new Map<string, { text: string; pod: Pod | undefined }>();
  private reportedProblems = new Map<string, string>();
  private lastUids: string | undefined;
  private scanning: Promise<void> | undefined;
  private rescanRequested = false;

  constructor(options: StaticPodSourceOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
  }

  async run(signal: AbortSignal): Promise<void> {
    const watcher = watch(this.options.dir, {
      ignoreInitial: true,
      depth: 0,
      awaitWriteFinish: { stabilityThreshold: 100 },
    });
    const rescan = () => void this.scan();
    watcher
      .on("add", rescan)
      .on("change", rescan)
      .on("unlink", rescan)
      .on("addDir", rescan)
      .on("unlinkDir", rescan);
    watcher.on("error", () => undefined);
    try {
      while (!signal.aborted) {
        await this.scan();
        await this.clock.sleep(this.options.rescanMs ?? 20_000, signal).catch(() => undefined);
      }
    } finally {
      await watcher.close();
    }
  }

  /** Reads the directory and reports the pod set if it changed. Concurrent calls coalesce. */
  scan(): Promise<void> {
    if (this.scanning) {
      this.rescanRequested = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescanRequested = false;
        await this.scanOnce();
      } while (this.rescanRequested);
    })().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const { dir, nodeName } = this.options;
    let names: string[] = [];
    try {
      names = (await readdir(dir)).filter((name) => !name.startsWith(".")).sort();
    } catch {
      names = []; // a missing directory holds no static pods (kubelet logs and carries on)
    }
    const present = new Set<string>();
    for (const name of names) {
      const file = join(dir, name);
      let text: string;
      try {
        if (!(await stat(file)).isFile()) continue;
        text = await readFile(file, "utf8");
      } catch {
        continue; // vanished between readdir and read
      }
      present.add(file);
      const known = this.byFile.get(file);
      if (known?.text === text) continue;
      // Loaded with the first manifest: the Pod schema (TypeBox and every type a pod embeds: ~4 MiB of heap)
      // stays out of an agent whose directory holds none, as on most nodes.
      const { staticPodFromManifest } = await import("./static-pod-manifest.ts");
      const result = staticPodFromManifest(text, file, nodeName, new Date(this.clock.now()).toISOString());
      if ("problem" in result) {
        this.byFile.set(file, { text, pod: undefined });
        if (this.reportedProblems.get(file) !== text) {
          this.reportedProblems.set(file, text);
          this.options.onProblem({ file, message: result.problem });
        }
      } else {
        this.byFile.set(file, { text, pod: result.pod });
        this.reportedProblems.delete(file);
      }
    }
    for (const file of [...this.byFile.keys()]) if (!present.has(file)) this.byFile.delete(file);
    const pods = [...this.byFile.values()].flatMap((entry) => (entry.pod ? [entry.pod] : []));
    const uids = pods.map((p) => p.metadata?.uid).join(",");
    if (uids !== this.lastUids) {
      this.lastUids = uids;
      this.options.onPods(pods);
    }
  }
}
