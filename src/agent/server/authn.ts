// Who may use the node API (kubelet's authentication + authorization, reduced to what Deckhand needs):
// a client certificate signed by the cluster CA (the TLS server verifies it) whose organizations include
// system:masters — the API server's kube-apiserver-kubelet-client certificate and cluster/node admins.
// No certificate, or one the CA did not sign → 401; a verified certificate without system:masters (a
// node's own client certificate, say) → 403 naming the user, verb and subresource like kubelet.
// /healthz stays open to local callers.

import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { AuthDecision, NodeAuthorizer } from "./server.ts";

export const NODE_ADMINS_GROUP = "system:masters";

export interface NodeApiUser {
  name: string;
  groups: string[];
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address.startsWith("127.") || address === "::1" || address.startsWith("::ffff:127.");
}

/** The user a verified client certificate names (CN, O), or why there is none. */
export function certificateUser(socket: TLSSocket): NodeApiUser | { problem: string } {
  const cert = socket.getPeerCertificate?.();
  if (!cert || Object.keys(cert).length === 0) return { problem: "no client certificate" };
  if (!socket.authorized) {
    return {
      problem: `client certificate not accepted: ${String(socket.authorizationError ?? "unknown CA")}`,
    };
  }
  const subject = cert.subject ?? {};
  const organizations = subject.O === undefined ? [] : Array.isArray(subject.O) ? subject.O : [subject.O];
  const cn = Array.isArray(subject.CN) ? subject.CN[0] : subject.CN;
  if (!cn) return { problem: "client certificate has no common name" };
  return { name: cn, groups: organizations };
}

/** kubelet's verb and subresource for a node API path (upstream server/auth.go). */
export function nodeApiAttributes(method: string, pathname: string): { verb: string; subresource: string } {
  const verb =
    method === "GET" || method === "HEAD"
      ? "get"
      : method === "DELETE"
        ? "delete"
        : method === "PUT" || method === "PATCH"
          ? "update"
          : "create";
  const first = pathname.split("/")[1] ?? "";
  const subresource =
    first === "stats"
      ? "stats"
      : first === "metrics"
        ? "metrics"
        : first === "logs"
          ? "log"
          : first === "spec"
            ? "spec"
            : "proxy";
  return { verb, subresource };
}

export function x509NodeAuthorizer(): NodeAuthorizer {
  return (req: IncomingMessage): AuthDecision => {
    const pathname = new URL(req.url ?? "/", "https://node").pathname;
    if (pathname === "/healthz" && isLoopback(req.socket.remoteAddress)) return { allowed: true };
    const socket = req.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== "function") {
      return {
        allowed: false,
        status: 401,
        message: "Unauthorized: the node API needs a TLS client certificate",
      };
    }
    const user = certificateUser(socket);
    if ("problem" in user) return { allowed: false, status: 401, message: `Unauthorized: ${user.problem}` };
    if (user.groups.includes(NODE_ADMINS_GROUP)) return { allowed: true };
    const { verb, subresource } = nodeApiAttributes(req.method ?? "GET", pathname);
    return {
      allowed: false,
      status: 403,
      message: `Forbidden (user=${user.name}, verb=${verb}, resource=nodes, subresource=${subresource}): only the API server and members of ${NODE_ADMINS_GROUP} may use the node API`,
    };
  };
}
