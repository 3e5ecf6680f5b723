// The API reads a pod sync makes (ConfigMaps and Secrets for env and volumes, Services for service env,
// pull secrets) must not stop a container restart while the API server is briefly unreachable: upstream
// kubelet serves them from informer and watch caches. This keeps the last successful answer per key and
// returns it when a read fails transiently (unreachable, timeout, 429, 5xx). A not-found, or any other
// answer from the server, is always the fresh truth.
// Reads of the same key that overlap share one request: in a burst of pods of one namespace, each would
// otherwise fetch the same kube-root-ca.crt ConfigMap (the shared answer is at most one round trip older
// than a request of its own would be, like a watch cache's).
import { isTransient } from "../api/client/errors.ts";

export class LastKnownReads {
  private readonly values = new Map<string, unknown>();
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly maxEntries: number;

  constructor(maxEntries = 2048) {
    this.maxEntries = maxEntries;
  }

  /** `fetch()`'s answer, remembered under `key`; the remembered one when `fetch()` fails transiently. */
  read<T>(key: string, fetch: () => Promise<T>): Promise<T> {
    let pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = this.fetchAndRemember(key, fetch).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async fetchAndRemember<T>(key: string, fetch: () => Promise<T>): Promise<T> {
    try {
      const value = await fetch();
      // Re-inserting keeps the map in least-recently-answered order for eviction.
      this.values.delete(key);
      this.values.set(key, value);
      if (this.values.size > this.maxEntries) {
        const oldest = this.values.keys().next().value;
        if (oldest !== undefined) this.values.delete(oldest);
      }
      return value;
    } catch (error) {
      if (isTransient(error) && this.values.has(key)) return this.values.get(key) as T;
      throw error;
    }
  }

  get size(): number {
    return this.values.size;
  }
}
