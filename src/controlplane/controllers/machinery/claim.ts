// Adoption and orphaning through controller owner references (upstream's ControllerRefManager): a controller
// claims the objects its selector matches that no other controller owns, and releases the ones it owns that
// its selector no longer matches. Before the first adoption it re-reads itself from the API, so an owner
// that is being deleted (or was deleted and recreated under the same name) never adopts.
import type { ApiClient, ResourceRef } from "../../../api/client/client.ts";
import { isNotFound } from "../../../api/client/errors.ts";
import type { KubeObject } from "../../../api/resource.ts";
import { controllerRef } from "./pods.ts";

export interface ClaimOptions {
  client: Pick<ApiClient, "get" | "patch">;
  owner: KubeObject;
  /** Where the owner lives, for the fresh read before adopting. */
  ownerRef: ResourceRef;
  ownerApiVersion: string;
  ownerKind: string;
  /** Where the claimed objects live (their namespace and name are filled in). */
  objectRef: ResourceRef;
  match(obj: KubeObject): boolean;
}

export async function claimObjects<T extends KubeObject>(
  objects: readonly T[],
  options: ClaimOptions,
): Promise<T[]> {
  const { owner } = options;
  const ownerUid = owner.metadata?.uid ?? "";
  const ownerDeleting = !!owner.metadata?.deletionTimestamp;
  const claimed: T[] = [];
  const errors: unknown[] = [];
  let adoptable: Promise<boolean> | undefined;
  for (const obj of objects) {
    const ref = controllerRef(obj);
    if (ref) {
      if (ref.uid !== ownerUid) continue;
      if (options.match(obj)) {
        claimed.push(obj);
        continue;
      }
      if (ownerDeleting) continue;
      try {
        await release(obj, options);
      } catch (error) {
        if (!isNotFound(error)) errors.push(error);
      }
      continue;
    }
    if (ownerDeleting || obj.metadata?.deletionTimestamp || !options.match(obj)) continue;
    adoptable ??= canAdopt(options);
    if (!(await adoptable)) continue;
    try {
      await adopt(obj, options);
      claimed.push(obj);
    } catch (error) {
      if (!isNotFound(error)) errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0];
  return claimed;
}

async function canAdopt(options: ClaimOptions): Promise<boolean> {
  const fresh = await options.client.get<KubeObject>(options.ownerRef).catch((error) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  return !!fresh && fresh.metadata?.uid === options.owner.metadata?.uid && !fresh.metadata?.deletionTimestamp;
}

function refTo(obj: KubeObject, options: ClaimOptions): ResourceRef {
  return { ...options.objectRef, namespace: obj.metadata?.namespace, name: obj.metadata?.name };
}

async function adopt(obj: KubeObject, options: ClaimOptions): Promise<void> {
  const { owner } = options;
  await options.client.patch(refTo(obj, options), "strategic", {
    metadata: {
      ownerReferences: [
        {
          apiVersion: options.ownerApiVersion,
          kind: options.ownerKind,
          name: owner.metadata?.name,
          uid: owner.metadata?.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      uid: obj.metadata?.uid,
    },
  });
}

async function release(obj: KubeObject, options: ClaimOptions): Promise<void> {
  await options.client.patch(refTo(obj, options), "strategic", {
    metadata: {
      ownerReferences: [{ $patch: "delete", uid: options.owner.metadata?.uid }],
      uid: obj.metadata?.uid,
    },
  });
}
