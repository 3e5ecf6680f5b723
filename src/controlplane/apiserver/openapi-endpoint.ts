// /openapi/v3: the root lists one document per group-version with a content hash in its URL (clients
// cache by it); each document is served as JSON. The documents come from the schema module.

import { createHash } from "node:crypto";

/** Where the documents come from: path ("api/v1", "apis/apps/v1") → OpenAPI v3 document. */
export type OpenApiDocuments = () => Record<string, unknown>;

interface Entry {
  text: string;
  hash: string;
}

export class OpenApiEndpoint {
  private entries: Map<string, Entry> | undefined;
  private readonly source: OpenApiDocuments;

  constructor(source: OpenApiDocuments) {
    this.source = source;
  }

  private load(): Map<string, Entry> {
    if (!this.entries) {
      this.entries = new Map();
      for (const [path, doc] of Object.entries(this.source())) {
        const text = JSON.stringify(doc);
        const hash = createHash("sha512").update(text).digest("hex").toUpperCase();
        this.entries.set(path, { text, hash });
      }
    }
    return this.entries;
  }

  root(): unknown {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const [path, entry] of this.load()) {
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${entry.hash}` };
    }
    return { paths };
  }

  /** The document text and its hash, for "api/v1" style paths. */
  document(path: string): Entry | undefined {
    return this.load().get(path);
  }
}
