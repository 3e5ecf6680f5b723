// RFC 6901 JSON pointers: "" is the whole document, "/a/b" walks member "a" then "b"; "~1" stands for "/"
// and "~0" for "~" inside a token. "-" (the element after the last) only means something to JSON patch's add.

/** The reference tokens of `pointer`, unescaped; undefined when it is neither "" nor starts with "/". */
export function parseJsonPointer(pointer: string): string[] | undefined {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) return undefined;
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replaceAll("~1", "/").replaceAll("~0", "~"));
}

export function escapeJsonPointerToken(token: string): string {
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

export function formatJsonPointer(tokens: readonly string[]): string {
  return tokens.map((token) => `/${escapeJsonPointerToken(token)}`).join("");
}

/**
 * An array index token as Go's strconv.Atoi reads it (upstream's JSON patch library uses it): optional sign,
 * decimal digits. Returns undefined for anything else ("-", "x", "1.5", "").
 */
export function parseArrayIndex(token: string): number | undefined {
  if (!/^[+-]?\d+$/.test(token)) return undefined;
  const n = Number(token);
  return Number.isSafeInteger(n) ? n : undefined;
}
