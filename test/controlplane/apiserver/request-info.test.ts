// Request paths and methods into RequestInfo, as upstream's RequestInfoFactory does.

import { describe, expect, it } from "vitest";
import { parseRequestInfo } from "../../../src/controlplane/apiserver/request-info.ts";

const q = (s = "") => new URLSearchParams(s);

describe("request info", () => {
  it.each([
    [
      "GET",
      "/api/v1/pods",
      "",
      { verb: "list", apiGroup: "", apiVersion: "v1", resource: "pods", namespace: "", name: "" },
    ],
    ["GET", "/api/v1/namespaces/ns/pods", "watch=true", { verb: "watch", namespace: "ns", resource: "pods" }],
    ["GET", "/api/v1/watch/namespaces/ns/pods", "", { verb: "watch", namespace: "ns", resource: "pods" }],
    [
      "GET",
      "/api/v1/namespaces/ns/pods/p",
      "",
      { verb: "get", namespace: "ns", resource: "pods", name: "p" },
    ],
    ["POST", "/api/v1/namespaces/ns/pods", "", { verb: "create", namespace: "ns", resource: "pods" }],
    [
      "PUT",
      "/api/v1/namespaces/ns/pods/p/status",
      "",
      { verb: "update", resource: "pods", name: "p", subresource: "status" },
    ],
    [
      "PATCH",
      "/apis/apps/v1/namespaces/ns/deployments/d/scale",
      "",
      { verb: "patch", apiGroup: "apps", subresource: "scale" },
    ],
    ["DELETE", "/api/v1/namespaces/ns/pods", "", { verb: "deletecollection", resource: "pods" }],
    ["DELETE", "/api/v1/namespaces/ns/pods/p", "", { verb: "delete", name: "p" }],
    ["GET", "/api/v1/namespaces/ns", "", { verb: "get", resource: "namespaces", name: "ns", namespace: "" }],
    [
      "PUT",
      "/api/v1/namespaces/ns/finalize",
      "",
      { verb: "update", resource: "namespaces", name: "ns", subresource: "finalize" },
    ],
    ["GET", "/api/v1/namespaces/ns/pods/p/log", "", { verb: "get", subresource: "log" }],
    ["POST", "/api/v1/namespaces/ns/pods/p/exec", "command=ls", { verb: "connect", subresource: "exec" }],
    ["GET", "/api/v1/namespaces/ns/pods/p/exec", "", { verb: "connect", subresource: "exec" }],
    [
      "GET",
      "/api/v1/nodes/n/proxy/metrics/cadvisor",
      "",
      { verb: "connect", resource: "nodes", subresource: "proxy", rest: ["metrics", "cadvisor"] },
    ],
  ])("%s %s?%s", (method, path, query, expected) => {
    expect(parseRequestInfo(method, path, q(query))).toMatchObject({ isResourceRequest: true, ...expected });
  });

  it.each([
    ["/version", {}],
    ["/api", { apiPrefix: "api" }],
    ["/api/v1", { apiPrefix: "api", apiVersion: "v1" }],
    ["/apis", { apiPrefix: "apis" }],
    ["/apis/apps", { apiPrefix: "apis", apiGroup: "apps" }],
    ["/apis/apps/v1", { apiPrefix: "apis", apiGroup: "apps", apiVersion: "v1" }],
  ])("%s is not a resource request", (path, expected) => {
    expect(parseRequestInfo("GET", path, q())).toMatchObject({ isResourceRequest: false, ...expected });
  });
});
