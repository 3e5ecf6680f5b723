// One static-pod manifest file into the pod it describes: YAML, kubelet's naming, the API server's Pod
// decoding and validation, and the config annotations. A module of its own so that the agent loads the Pod
// schema only when its static-pod directory holds a manifest (static-pods.ts imports it on first use).
import { createHash } from "node:crypto";
import { pods } from "../api/schema/core/pod.ts";
import type { Pod } from "../api/schema/core/pod-types.ts";
import { prepareForCreate } from "../api/schema/validate.ts";
import { parseAllYamlStrict } from "../util/yaml.ts";
import { ConfigAnnotations } from "./static-pods.ts";

/** Turns one manifest's text into the static pod, or explains what is wrong with it. */
export function staticPodFromManifest(
  text: string,
  file: string,
  nodeName: string,
  seenAt: string,
): { pod: Pod } | { problem: string } {
  let docs: unknown[];
  try {
    docs = parseAllYamlStrict(text);
  } catch (error) {
    return { problem: `invalid YAML/JSON: ${(error as Error).message}` };
  }
  docs = docs.filter((d) => d !== null && d !== undefined);
  if (docs.length !== 1)
    return { problem: `expected exactly one Pod in the file, found ${docs.length} documents` };
  const raw = docs[0] as {
    apiVersion?: string;
    kind?: string;
    metadata?: { name?: string; namespace?: string };
  };
  if (raw.kind !== "Pod" || raw.apiVersion !== "v1") {
    return {
      // JSON, not String(): a hand-written file can put any YAML value (even one whose toString is data) here.
      problem: `expected apiVersion v1, kind Pod; got apiVersion ${JSON.stringify(raw.apiVersion)}, kind ${JSON.stringify(raw.kind)}`,
    };
  }
  if (!raw.metadata?.name) return { problem: "metadata.name: Required value" };
  // Named and placed before validation, as kubelet does, so that the final name is what gets checked.
  raw.metadata = {
    ...raw.metadata,
    name: `${raw.metadata.name}-${nodeName}`,
    namespace: raw.metadata.namespace || "default",
  };
  // The Pod kind only, not api/schema/index.ts (every kind the API server serves): the agent decodes no other.
  const prepared = prepareForCreate(pods, raw, { fieldValidation: "Strict" });
  if (prepared.badRequest) return { problem: prepared.badRequest };
  if (prepared.errors.length > 0) {
    return { problem: prepared.errors.map((e) => `${e.field}: ${e.message}`).join("; ") };
  }
  const pod = prepared.obj;
  pod.metadata ??= {};
  const metadata = pod.metadata;
  const spec = pod.spec as NonNullable<Pod["spec"]>;
  spec.nodeName = nodeName;
  // Static pods tolerate every NoExecute taint: the node must never evict them (upstream does the same).
  spec.tolerations = [...(spec.tolerations ?? []), { operator: "Exists", effect: "NoExecute" }];
  const uid = createHash("md5")
    .update(JSON.stringify(pod))
    .update(`host:${nodeName}`)
    .update(`file:${file}`)
    .digest("hex");
  metadata.uid = uid;
  metadata.annotations = {
    ...metadata.annotations,
    [ConfigAnnotations.source]: "file",
    [ConfigAnnotations.hash]: uid,
    [ConfigAnnotations.seen]: seenAt,
  };
  return { pod };
}
