// Mirror pods: the API's read-only copies of this node's static pods, so that kubectl shows them. Kept in
// step with the static pods: created when missing, replaced when their hash differs, deleted when the
// static pod is gone. A mirror pod deleted through kubectl is recreated without touching the static pod.
import type { ApiClient } from "../api/client/client.ts";
import { isAlreadyExists, isNotFound } from "../api/client/errors.ts";
import type { Pod } from "../api/schema/core/pod-types.ts";
import { ConfigAnnotations } from "./static-pods.ts";

export interface MirrorPodOptions {
  client: Pick<ApiClient, "create" | "delete">;
  nodeName: string;
  nodeUid(): string | undefined;
}

function key(pod: Pod): string {
  return `${pod.metadata?.namespace}/${pod.metadata?.name}`;
}

export class MirrorPods {
  private readonly options: MirrorPodOptions;
  /** Mirror pods as the API last showed them (from the agent's pod watch), by namespace/name. */
  private readonly mirrors = new Map<string, Pod>();

  constructor(options: MirrorPodOptions) {
    this.options = options;
  }

  /** The pod watch saw a mirror pod (added/updated) or its deletion. */
  observe(pod: Pod, deleted: boolean): void {
    if (deleted) this.mirrors.delete(key(pod));
    else this.mirrors.set(key(pod), pod);
  }

  replaceObserved(pods: readonly Pod[]): void {
    this.mirrors.clear();
    for (const pod of pods) this.mirrors.set(key(pod), pod);
  }

  /** The API UID of a static pod's mirror (where its status goes), if it exists. */
  mirrorUid(staticPod: Pod): string | undefined {
    const mirror = this.mirrors.get(key(staticPod));
    return mirror?.metadata?.annotations?.[ConfigAnnotations.mirror] === staticPod.metadata?.uid
      ? mirror?.metadata?.uid
      : undefined;
  }

  /** Makes the API's mirror pods match `staticPods`. Throws on API errors (the caller retries later). */
  async reconcile(staticPods: readonly Pod[]): Promise<void> {
    const wanted = new Map(staticPods.map((pod) => [key(pod), pod]));
    for (const [name, mirror] of this.mirrors) {
      const pod = wanted.get(name);
      const stale = mirror.metadata?.annotations?.[ConfigAnnotations.mirror] !== pod?.metadata?.uid;
      // A mirror being deleted (e.g. kubectl delete) is replaced at once; the static pod keeps running.
      if (!pod || stale || mirror.metadata?.deletionTimestamp) {
        await this.deleteMirror(mirror);
      }
    }
    for (const [name, pod] of wanted) {
      if (this.mirrors.has(name) && this.mirrorUid(pod)) continue;
      await this.createMirror(pod);
    }
  }

  private async createMirror(pod: Pod): Promise<void> {
    const nodeUid = this.options.nodeUid();
    const { uid: _uid, resourceVersion: _rv, ...metadata } = pod.metadata ?? {};
    const mirror = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        ...metadata,
        annotations: { ...metadata.annotations, [ConfigAnnotations.mirror]: pod.metadata?.uid ?? "" },
        ...(nodeUid
          ? {
              ownerReferences: [
                {
                  apiVersion: "v1",
                  kind: "Node",
                  name: this.options.nodeName,
                  uid: nodeUid,
                  controller: true,
                },
              ],
            }
          : {}),
      },
      spec: pod.spec,
    } as Pod;
    try {
      const created = await this.options.client.create<Pod>(
        { version: "v1", resource: "pods", namespace: pod.metadata?.namespace },
        mirror,
      );
      this.mirrors.set(key(created), created);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }

  private async deleteMirror(mirror: Pod): Promise<void> {
    try {
      await this.options.client.delete(
        {
          version: "v1",
          resource: "pods",
          namespace: mirror.metadata?.namespace,
          name: mirror.metadata?.name,
        },
        { gracePeriodSeconds: 0, preconditions: { uid: mirror.metadata?.uid } },
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    this.mirrors.delete(key(mirror));
  }
}
