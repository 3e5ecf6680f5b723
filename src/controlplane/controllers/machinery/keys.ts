// Object keys as client-go's cache uses them: "namespace/name" for namespaced objects, "name" otherwise.
import type { KubeObject } from "../../../api/resource.ts";

export function keyOf(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? "";
  return ns ? `${ns}/${name}` : name;
}

export function keyFor(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  return slash < 0
    ? { namespace: "", name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The object with apiVersion/kind set (list items may lack them; event references need them). */
export function typed<T extends KubeObject>(obj: T, apiVersion: string, kind: string): T {
  return obj.kind && obj.apiVersion ? obj : { ...obj, apiVersion, kind };
}
