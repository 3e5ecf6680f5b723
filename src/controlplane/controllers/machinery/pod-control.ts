// Creating and deleting pods on behalf of a controller (upstream's RealPodControl): pods are made from the
// controller's template with a controller owner reference, and every outcome is recorded as an event on
// the controller with upstream's reasons and messages.
import type { ApiClient } from "../../../api/client/client.ts";
import { isNotFound } from "../../../api/client/errors.ts";
import { type EventRecorder, referenceTo } from "../../../api/client/events.ts";
import type { KubeObject, OwnerReference } from "../../../api/resource.ts";
import type { Pod, PodTemplateSpec } from "../../../api/schema/core/pod-types.ts";
import { RESOURCES } from "./context.ts";

/** upstream GetPodFromTemplate: labels, annotations, finalizers and spec of the template, owned by `ref`. */
export function podFromTemplate(
  template: PodTemplateSpec | undefined,
  namespace: string,
  generateName: string,
  ref: OwnerReference,
): Pod {
  const meta = template?.metadata ?? {};
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName,
      namespace,
      labels: { ...(meta.labels ?? {}) },
      annotations: { ...(meta.annotations ?? {}) },
      ...(meta.finalizers?.length ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [ref],
    },
    spec: structuredClone(template?.spec ?? { containers: [] }),
  } as Pod;
}

/** The prefix upstream gives generated pod names: the controller's name and a dash (shortened to fit). */
export function podNamePrefix(controllerName: string): string {
  const prefix = `${controllerName}-`;
  // Names are at most 63 characters after the 5 random ones the server appends.
  return prefix.length > 58 ? `${prefix.slice(0, 57)}-` : prefix;
}

export class PodControl {
  private readonly client: ApiClient;
  private readonly recorder: EventRecorder;

  constructor(client: ApiClient, recorder: EventRecorder) {
    this.client = client;
    this.recorder = recorder;
  }

  async create(owner: KubeObject, pod: Pod): Promise<Pod> {
    const namespace = pod.metadata?.namespace ?? "";
    try {
      const created = await this.client.create<Pod>({ ...RESOURCES.pods, namespace }, pod);
      this.recorder.record(
        referenceTo(owner),
        "Normal",
        "SuccessfulCreate",
        `Created pod: ${created.metadata?.name}`,
      );
      return created;
    } catch (error) {
      this.recorder.record(
        referenceTo(owner),
        "Warning",
        "FailedCreate",
        `Error creating: ${messageOf(error)}`,
      );
      throw error;
    }
  }

  /** Deletes a pod; a pod already gone counts as deleted. */
  async delete(owner: KubeObject, pod: Pod): Promise<void> {
    const namespace = pod.metadata?.namespace ?? "";
    const name = pod.metadata?.name ?? "";
    try {
      await this.client.delete(
        { ...RESOURCES.pods, namespace, name },
        {
          preconditions: pod.metadata?.uid ? { uid: pod.metadata.uid } : undefined,
        },
      );
      this.recorder.record(referenceTo(owner), "Normal", "SuccessfulDelete", `Deleted pod: ${name}`);
    } catch (error) {
      if (isNotFound(error)) return;
      this.recorder.record(
        referenceTo(owner),
        "Warning",
        "FailedDelete",
        `Error deleting: ${messageOf(error)}`,
      );
      throw error;
    }
  }
}

/** The server's message of an API error (what upstream puts in events), else the error text. */
export function messageOf(error: unknown): string {
  const status = (error as { status?: { message?: string } }).status;
  return status?.message ?? (error as Error).message ?? String(error);
}
