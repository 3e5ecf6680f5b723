// Which objects each node may read because a pod bound to it references them (upstream's node authorizer
// graph, reduced to the edges Deckhand serves): pod → node, and secret / configmap / PVC / service account →
// pod. Fed from the pods watch cache; a pod's references are counted per node so that two pods sharing a
// Secret keep it readable until both are gone.

import type { KubeObject } from "../../../api/resource.ts";
import type { Pod, PodSpec } from "../../../api/schema/core/pod-types.ts";
import type { EventType } from "../watch/cache.ts";
import type { FeedTarget } from "./cache-feed.ts";

export type ReferenceKind = "secret" | "configmap" | "persistentvolumeclaim" | "serviceaccount";

interface PodEdges {
  node: string;
  references: string[];
}

/** The Secret references of in-tree volume plugins (azureFile names its Secret by secretName). */
interface LegacySecretRefs {
  secretRef?: { name?: string };
  secretName?: string;
  nodePublishSecretRef?: { name?: string };
}

function ref(kind: ReferenceKind, namespace: string, name: string): string {
  return `${kind}\u0000${namespace}\u0000${name}`;
}

/** Every object a pod's spec names, as upstream's VisitPodSecretNames/ConfigMapNames and AddPod collect them. */
export function podReferences(namespace: string, podName: string, spec: PodSpec): string[] {
  const refs = new Set<string>();
  const secret = (name: string | undefined) => name && refs.add(ref("secret", namespace, name));
  const configMap = (name: string | undefined) => name && refs.add(ref("configmap", namespace, name));
  const claim = (name: string | undefined) => name && refs.add(ref("persistentvolumeclaim", namespace, name));
  if (spec.serviceAccountName) refs.add(ref("serviceaccount", namespace, spec.serviceAccountName));
  for (const s of spec.imagePullSecrets ?? []) secret(s.name);
  const containers = [
    ...(spec.initContainers ?? []),
    ...(spec.containers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ];
  for (const c of containers) {
    for (const e of c.envFrom ?? []) {
      secret(e.secretRef?.name);
      configMap(e.configMapRef?.name);
    }
    for (const e of c.env ?? []) {
      secret(e.valueFrom?.secretKeyRef?.name);
      configMap(e.valueFrom?.configMapKeyRef?.name);
    }
  }
  for (const v of spec.volumes ?? []) {
    // In-tree plugins Deckhand only stores still name Secrets a node would need (upstream visits them too).
    const plugins = v as unknown as Record<string, LegacySecretRefs | undefined>;
    secret(v.secret?.secretName);
    configMap(v.configMap?.name);
    claim(v.persistentVolumeClaim?.claimName);
    if (v.ephemeral) claim(`${podName}-${v.name}`);
    for (const source of v.projected?.sources ?? []) {
      secret(source.secret?.name);
      configMap(source.configMap?.name);
    }
    for (const plugin of [
      "azureFile",
      "cephfs",
      "cinder",
      "flexVolume",
      "iscsi",
      "rbd",
      "scaleIO",
      "storageos",
    ]) {
      secret(plugins[plugin]?.secretRef?.name);
    }
    secret(plugins.azureFile?.secretName);
    secret(plugins.csi?.nodePublishSecretRef?.name);
  }
  return [...refs];
}

export class NodeGraph implements FeedTarget {
  /** Pod (namespace/name) → its node and references. */
  private readonly pods = new Map<string, PodEdges>();
  /** Node → reference → number of its pods holding it. */
  private readonly nodes = new Map<string, Map<string, number>>();

  apply(type: EventType, object: KubeObject): void {
    const pod = object as Pod;
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    const key = `${namespace}/${name}`;
    this.remove(key);
    const node = pod.spec?.nodeName ?? "";
    if (type === "DELETED" || node === "") return;
    const references = podReferences(namespace, name, pod.spec ?? ({} as PodSpec));
    this.pods.set(key, { node, references });
    let counts = this.nodes.get(node);
    if (!counts) {
      counts = new Map();
      this.nodes.set(node, counts);
    }
    for (const r of references) counts.set(r, (counts.get(r) ?? 0) + 1);
  }

  reset(): void {
    this.pods.clear();
    this.nodes.clear();
  }

  private remove(podKey: string): void {
    const edges = this.pods.get(podKey);
    if (!edges) return;
    this.pods.delete(podKey);
    const counts = this.nodes.get(edges.node);
    if (!counts) return;
    for (const r of edges.references) {
      const n = (counts.get(r) ?? 0) - 1;
      if (n > 0) counts.set(r, n);
      else counts.delete(r);
    }
    if (counts.size === 0) this.nodes.delete(edges.node);
  }

  /** Whether a pod bound to `node` references the object. */
  references(node: string, kind: ReferenceKind, namespace: string, name: string): boolean {
    return this.nodes.get(node)?.has(ref(kind, namespace, name)) ?? false;
  }

  /** The node a pod is bound to, as last seen ("" when unbound or unknown). */
  nodeOf(namespace: string, name: string): string {
    return this.pods.get(`${namespace}/${name}`)?.node ?? "";
  }
}
