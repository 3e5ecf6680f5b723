// Client certificates (upstream's x509 request authenticator): the TLS listener asks every client for a
// certificate and checks it against the cluster CA without refusing the connection, so that token and
// anonymous clients still get in. A verified certificate names the user (CN) and its groups (O); one that
// does not verify (another CA, expired, not for client auth) is a rejection, i.e. 401 unless another
// credential succeeds.

import type { IncomingMessage } from "node:http";
import { TLSSocket } from "node:tls";
import { AuthenticationError, type Authenticator, type UserInfo } from "../pipeline/authentication.ts";

type Outcome = { user: UserInfo } | { error: string } | undefined;

/** Verification happens once per connection; keep-alive requests reuse the outcome. */
const outcomes = new WeakMap<TLSSocket, Outcome>();

export function clientCertificateAuthenticator(): Authenticator {
  return {
    name: "x509",
    authenticate(req: IncomingMessage) {
      const socket = req.socket;
      if (!(socket instanceof TLSSocket)) return undefined;
      let outcome = outcomes.get(socket);
      if (!outcomes.has(socket)) {
        outcome = verify(socket);
        outcomes.set(socket, outcome);
      }
      if (outcome === undefined) return undefined;
      if ("error" in outcome) throw new AuthenticationError(outcome.error);
      return outcome.user;
    },
  };
}

function verify(socket: TLSSocket): Outcome {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  if (!socket.authorized) {
    return {
      error: `x509: client certificate rejected: ${String(socket.authorizationError ?? "not verified")}`,
    };
  }
  const commonName = first(cert.subject?.CN);
  if (!commonName) return { error: "x509: client certificate has an empty common name" };
  return { user: { name: commonName, groups: all(cert.subject?.O) } };
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function all(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...value] : [value];
}
