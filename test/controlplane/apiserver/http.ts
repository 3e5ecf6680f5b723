// Small JSON-over-HTTP helpers for the API server tests.

import type { TestControlPlane } from "../../support/controlplane.ts";

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

/** Sends `body` (JSON unless a string) and parses the JSON answer. */
export async function call<T = Record<string, unknown>>(
  cp: Pick<TestControlPlane, "fetch">,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const init: RequestInit = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.body =
      typeof body === "string" || body instanceof Uint8Array ? (body as string) : JSON.stringify(body);
    (init.headers as Record<string, string>)["Content-Type"] ??= "application/json";
  }
  const res = await cp.fetch(path, init);
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === "" ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed as T };
}

export interface WatchEventLine {
  type: string;
  object: {
    metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
  } & Record<string, unknown>;
}

/**
 * Reads a watch stream until `until` says stop or the server closes it; returns the events seen. The
 * request is aborted when done.
 */
export async function readWatch(
  cp: Pick<TestControlPlane, "fetch">,
  path: string,
  until: (events: WatchEventLine[]) => boolean,
  headers: Record<string, string> = {},
  timeoutMs = 20_000,
): Promise<WatchEventLine[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const events: WatchEventLine[] = [];
  try {
    const res = await cp.fetch(path, { signal: controller.signal, headers });
    if (!res.body) throw new Error(`watch ${path} answered ${res.status} without a body`);
    const decoder = new TextDecoder();
    let buffer = "";
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) events.push(JSON.parse(line) as WatchEventLine);
        nl = buffer.indexOf("\n");
      }
      if (until(events)) break;
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}
