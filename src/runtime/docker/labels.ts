// The Docker labels the driver writes and reads back. Docker has no annotations and no sandbox concept, so,
// like dockershim, annotations travel as prefixed labels and a type label tells sandboxes from containers.
import { RuntimeLabels } from "../types.ts";

/** Docker-only bookkeeping labels; hidden from the labels the driver reports. */
export const DockerLabels = {
  /** "podsandbox" or "container" (dockershim's key). */
  type: "io.kubernetes.docker.type",
  /** On app containers: the ID of their sandbox container (dockershim's key). */
  sandboxId: "io.kubernetes.sandbox.id",
  /** On sandboxes: metadata.attempt. */
  sandboxAttempt: "io.deckhand.sandbox.attempt",
  /** On containers: the image as requested (Docker reports it resolved). */
  image: "io.deckhand.container.image",
  /** Prefix of annotation keys stored as labels (dockershim's convention). */
  annotationPrefix: "annotation.",
} as const;

export const SANDBOX_TYPE = "podsandbox";
export const CONTAINER_TYPE = "container";
export const MANAGED_VALUE = "true";

const INTERNAL = new Set<string>([
  DockerLabels.type,
  DockerLabels.sandboxId,
  DockerLabels.sandboxAttempt,
  DockerLabels.image,
]);

/** Merges user labels, annotations (prefixed) and the driver's own labels; the driver's win on conflict. */
export function encodeLabels(
  labels: Record<string, string> | undefined,
  annotations: Record<string, string> | undefined,
  own: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = { ...labels };
  for (const [key, value] of Object.entries(annotations ?? {})) {
    out[`${DockerLabels.annotationPrefix}${key}`] = value;
  }
  return { ...out, ...own };
}

/** Splits Docker labels back into reported labels and annotations, dropping the driver's bookkeeping. */
export function decodeLabels(dockerLabels: Record<string, string> | null | undefined): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(dockerLabels ?? {})) {
    if (INTERNAL.has(key)) continue;
    if (key.startsWith(DockerLabels.annotationPrefix)) {
      annotations[key.slice(DockerLabels.annotationPrefix.length)] = value;
    } else {
      labels[key] = value;
    }
  }
  return { labels, annotations };
}

/** Docker `label` filters (`key=value`) for a list call. */
export function labelFilters(selector: Record<string, string>): string[] {
  return Object.entries(selector).map(([key, value]) => `${key}=${value}`);
}

export { RuntimeLabels };
