// List continuation tokens, shaped like upstream's: base64url of {"v":"meta.k8s.io/v1","rv":N,"start":K}
// where K is the last returned key relative to the list's prefix. Paging reads at revision `rv`, so pages
// are consistent; a compacted `rv` answers 410.

import { badRequest } from "../errors.ts";

export interface ContinueToken {
  rv: number;
  /** Last key returned, relative to the resource prefix. */
  start: string;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(
    JSON.stringify({ v: "meta.k8s.io/v1", rv: token.rv, start: token.start }),
    "utf8",
  ).toString("base64url");
}

export function decodeContinue(text: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
  } catch {
    throw badRequest(
      `continue key is not valid: ${JSON.stringify(text)} is not a token returned by this server`,
    );
  }
  const t = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (t.v !== "meta.k8s.io/v1" || typeof t.rv !== "number" || typeof t.start !== "string" || t.rv < 1) {
    throw badRequest(
      "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
    );
  }
  if (t.start.includes("..") || t.start.startsWith("/")) {
    throw badRequest("continue key is not valid: the start key is not a relative key of this resource");
  }
  return { rv: t.rv, start: t.start };
}
