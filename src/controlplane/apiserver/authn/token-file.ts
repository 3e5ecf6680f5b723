// The static token file (kube-apiserver --token-auth-file): CSV lines `token,user,uid[,"group1,group2"]`.
// Tokens are compared as SHA-256 digests with timingSafeEqual against every entry, so neither a hash lookup
// nor an early exit tells a caller how close a guess was.

import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { UserInfo } from "../pipeline/authentication.ts";
import type { TokenAuthenticator } from "./bearer.ts";

export class TokenFileError extends Error {}

interface Entry {
  digest: Buffer;
  user: UserInfo;
}

export async function loadTokenFile(path: string): Promise<TokenAuthenticator> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new TokenFileError(`--token-auth-file ${path}: ${(error as Error).message}`);
  }
  return staticTokenAuthenticator(parseTokenFile(text, path));
}

export function parseTokenFile(
  text: string,
  source = "token file",
): Array<{ token: string; user: UserInfo }> {
  const entries: Array<{ token: string; user: UserInfo }> = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (line.trim() === "") continue;
    const fields = parseCsvLine(line);
    const where = `${source} line ${index + 1}`;
    if (fields === undefined) throw new TokenFileError(`${where}: unbalanced quotes`);
    if (fields.length < 3) {
      throw new TokenFileError(
        `${where}: needs at least 3 columns (token, user name, user uid), found ${fields.length}`,
      );
    }
    const [token, name, uid, groups] = fields as [string, string, string, string | undefined];
    if (token === "") throw new TokenFileError(`${where}: the token is empty`);
    if (name === "") throw new TokenFileError(`${where}: the user name is empty`);
    if (seen.has(token)) throw new TokenFileError(`${where}: the token is listed twice`);
    seen.add(token);
    const user: UserInfo = {
      name,
      uid,
      groups: (groups ?? "")
        .split(",")
        .map((g) => g.trim())
        .filter(Boolean),
    };
    entries.push({ token, user });
  }
  return entries;
}

export function staticTokenAuthenticator(
  entries: ReadonlyArray<{ token: string; user: UserInfo }>,
): TokenAuthenticator {
  const table: Entry[] = entries.map((e) => ({ digest: digest(e.token), user: e.user }));
  return {
    name: "token-file",
    authenticateToken(token) {
      const presented = digest(token);
      let found: UserInfo | undefined;
      for (const entry of table) {
        if (timingSafeEqual(entry.digest, presented)) found = entry.user;
      }
      return found;
    },
  };
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

/** One CSV record (RFC 4180 quoting, as Go's encoding/csv reads it); undefined when a quote is left open. */
function parseCsvLine(line: string): string[] | undefined {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"' && field === "") {
      quoted = true;
    } else if (c === ",") {
      fields.push(field);
      field = "";
    } else {
      field += c;
    }
  }
  if (quoted) return undefined;
  fields.push(field);
  return fields;
}
