// Downward API field selectors (fieldRef): the pod fields a container may see in its environment or in a
// downwardAPI volume, with upstream's supported paths, subscripts and map formatting.
import type { Pod } from "../../api/schema/core/pod-types.ts";

export interface FieldRef {
  apiVersion?: string;
  fieldPath: string;
}

/** What the runtime knows and the API object may not have yet. */
export interface RuntimeFields {
  podIP: string;
  podIPs: string[];
  hostIPs: string[];
}

/** Splits `metadata.labels['key']` into path and subscript. */
function splitSubscript(fieldPath: string): { path: string; subscript: string } | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const inner = fieldPath.slice(0, -2);
  const at = inner.indexOf("['");
  if (at <= 0) return undefined;
  return { path: inner.slice(0, at), subscript: inner.slice(at + 2) };
}

const QUALIFIED_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Upstream's IsQualifiedName: [prefix/]name, name ≤ 63 chars, prefix a DNS subdomain. */
function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split("/");
  if (parts.length > 2)
    return "a qualified name must consist of an optional prefix and a name separated by '/'";
  const name = parts[parts.length - 1] as string;
  if (parts.length === 2) {
    const prefix = parts[0] as string;
    if (!prefix || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
      return `prefix part of "${key}" must be a DNS subdomain`;
    }
  }
  if (!name) return "name part must be non-empty";
  if (name.length > 63) return "name part must be no more than 63 characters";
  if (!QUALIFIED_NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/** Go's strconv.Quote, which upstream uses (%q) to print label and annotation values. */
export function goQuote(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) as number;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case "\\":
        out += "\\\\";
        continue;
      case "\x07":
        out += "\\a";
        continue;
      case "\b":
        out += "\\b";
        continue;
      case "\f":
        out += "\\f";
        continue;
      case "\n":
        out += "\\n";
        continue;
      case "\r":
        out += "\\r";
        continue;
      case "\t":
        out += "\\t";
        continue;
      case "\v":
        out += "\\v";
        continue;
    }
    if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (ch !== " " && /[\p{C}\p{Z}]/u.test(ch)) {
      out +=
        code > 0xffff
          ? `\\U${code.toString(16).padStart(8, "0")}`
          : `\\u${code.toString(16).padStart(4, "0")}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** Upstream's FormatMap: `key="value"` lines sorted by key, no trailing newline. */
export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((key) => `${key}=${goQuote((map as Record<string, string>)[key] as string)}`)
    .join("\n");
}

function checkVersion(ref: FieldRef): void {
  if (ref.apiVersion && ref.apiVersion !== "v1") {
    throw new Error(`unsupported pod version: ${ref.apiVersion} (fieldRef ${ref.fieldPath})`);
  }
}

/** The metadata fields a downwardAPI volume may project (upstream's ExtractFieldPathAsString). */
export function metadataFieldValue(pod: Pod, ref: FieldRef): string {
  checkVersion(ref);
  const m = pod.metadata ?? {};
  const sub = splitSubscript(ref.fieldPath);
  if (sub) {
    if (sub.path === "metadata.annotations") {
      const problem = qualifiedNameProblem(sub.subscript.toLowerCase());
      if (problem) throw new Error(`invalid key subscript in ${ref.fieldPath}: ${problem}`);
      return m.annotations?.[sub.subscript] ?? "";
    }
    if (sub.path === "metadata.labels") {
      const problem = qualifiedNameProblem(sub.subscript);
      if (problem) throw new Error(`invalid key subscript in ${ref.fieldPath}: ${problem}`);
      return m.labels?.[sub.subscript] ?? "";
    }
    throw new Error(`fieldPath "${sub.path}" does not support subscript`);
  }
  switch (ref.fieldPath) {
    case "metadata.annotations":
      return formatMap(m.annotations);
    case "metadata.labels":
      return formatMap(m.labels);
    case "metadata.name":
      return m.name ?? "";
    case "metadata.namespace":
      return m.namespace ?? "";
    case "metadata.uid":
      return m.uid ?? "";
  }
  throw new Error(`unsupported fieldPath: ${ref.fieldPath}`);
}

/** The fields an environment variable may select (upstream's podFieldSelectorRuntimeValue). */
export function podFieldValue(pod: Pod, ref: FieldRef, runtime: RuntimeFields): string {
  checkVersion(ref);
  const podIPs = runtime.podIPs.length > 0 ? runtime.podIPs : runtime.podIP ? [runtime.podIP] : [];
  switch (ref.fieldPath) {
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.hostIP":
    case "status.hostIPs": {
      if (runtime.hostIPs.length === 0) {
        throw new Error(`${ref.fieldPath}: the node has no known IP address yet`);
      }
      return ref.fieldPath === "status.hostIP" ? (runtime.hostIPs[0] as string) : runtime.hostIPs.join(",");
    }
    case "status.podIP":
      return podIPs[0] ?? "";
    case "status.podIPs":
      return podIPs.join(",");
  }
  return metadataFieldValue(pod, ref);
}
