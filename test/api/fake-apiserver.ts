// A minimal HTTP server that answers kubectl's discovery and OpenAPI requests from the schema package, and
// records every other request. It lets the tests run the real kubectl against the documents we generate
// without needing the real API server (which lives in src/controlplane).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { openAPIDocuments, openAPIV2 } from "../../src/api/openapi.ts";
import type { ResourceDefinition } from "../../src/api/resource.ts";

export interface RecordedRequest {
  method: string;
  url: string;
  contentType: string;
  body: string;
}

export type Handler = (req: RecordedRequest) => { status: number; body: unknown } | undefined;

function subresourceEntry(def: ResourceDefinition, sub: string): Record<string, unknown> {
  const base = { name: `${def.plural}/${sub}`, singularName: "", namespaced: def.namespaced };
  switch (sub) {
    case "status":
      return { ...base, kind: def.kind, verbs: ["get", "patch", "update"] };
    case "scale":
      return {
        ...base,
        group: "autoscaling",
        version: "v1",
        kind: "Scale",
        verbs: ["get", "patch", "update"],
      };
    case "binding":
      return { ...base, kind: "Binding", verbs: ["create"] };
    case "log":
      return { ...base, kind: "Pod", verbs: ["get"] };
    default:
      return {
        ...base,
        kind: `Pod${sub.charAt(0).toUpperCase()}${sub.slice(1)}Options`,
        verbs: ["create", "get"],
      };
  }
}

export function discovery(defs: readonly ResourceDefinition[]): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const byGv = new Map<string, ResourceDefinition[]>();
  for (const d of defs) {
    const gv = d.group ? `${d.group}/${d.version}` : d.version;
    byGv.set(gv, [...(byGv.get(gv) ?? []), d]);
  }
  out.set("/api", { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] });
  const groups = [...byGv.keys()]
    .filter((gv) => gv.includes("/"))
    .map((gv) => {
      const [name, version] = gv.split("/") as [string, string];
      const v = { groupVersion: gv, version };
      return { name, versions: [v], preferredVersion: v };
    });
  out.set("/apis", { kind: "APIGroupList", apiVersion: "v1", groups });
  for (const [gv, list] of byGv) {
    const resources = list.flatMap((d) => [
      {
        name: d.plural,
        singularName: d.singular,
        namespaced: d.namespaced,
        kind: d.kind,
        verbs: d.verbs,
        ...(d.shortNames.length ? { shortNames: d.shortNames } : {}),
        ...(d.categories.length ? { categories: d.categories } : {}),
      },
      ...d.subresources.map((s) => subresourceEntry(d, s)),
    ]);
    out.set(gv.includes("/") ? `/apis/${gv}` : `/api/${gv}`, {
      kind: "APIResourceList",
      groupVersion: gv,
      resources,
    });
  }
  return out;
}

export interface FakeApiServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startFakeApiServer(
  defs: readonly ResourceDefinition[],
  handler: Handler,
): Promise<FakeApiServer> {
  const docs = openAPIDocuments(defs);
  const v2 = openAPIV2(defs);
  const static_ = discovery(defs);
  static_.set("/version", { major: "1", minor: "32", gitVersion: "v1.32.0", platform: "linux/amd64" });
  static_.set("/openapi/v3", docs.root);
  for (const [gv, doc] of docs.documents) static_.set(`/openapi/v3/${gv}`, JSON.parse(doc.json));
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = req.url ?? "/";
      const path = url.split("?")[0] as string;
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method === "GET" && path === "/openapi/v2") {
        const protobuf = (req.headers.accept ?? "").includes("protobuf");
        res.writeHead(200, {
          "content-type": protobuf
            ? "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
            : "application/json",
        });
        res.end(protobuf ? v2.protobuf : v2.json);
        return;
      }
      const fixed = req.method === "GET" ? static_.get(path) : undefined;
      if (fixed !== undefined) return send(200, fixed);
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        url,
        contentType: req.headers["content-type"] ?? "",
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(recorded);
      const answer = handler(recorded);
      if (answer) return send(answer.status, answer.body);
      return send(404, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: `the server could not find the requested resource (${path})`,
        reason: "NotFound",
        code: 404,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
