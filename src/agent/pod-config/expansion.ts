// `$(VAR)` references in env values, command, args and subPathExpr, with upstream's exact rules
// (third_party/forked/golang/expansion): `$$` is an escaped `$`, an unknown or unterminated reference is
// kept verbatim, `$` followed by anything else is kept with that character, nothing else is special.

/** Resolves a variable name to its value. */
export type Mapping = (name: string) => string;

/** Looks the name up in each map in turn; an unknown name expands to itself, `$(NAME)`. */
export function mappingFor(...maps: ReadonlyArray<ReadonlyMap<string, string>>): Mapping {
  return (name) => {
    for (const map of maps) {
      const value = map.get(name);
      if (value !== undefined) return value;
    }
    return `$(${name})`;
  };
}

export function expand(input: string, mapping: Mapping): string {
  let out = "";
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (c !== "$" || i + 1 >= input.length) {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1] as string;
    if (next === "$") {
      out += "$"; // escaped operator
      i += 2;
    } else if (next === "(") {
      const close = input.indexOf(")", i + 2);
      if (close === -1) {
        out += "$("; // unterminated: keep it, keep scanning after "("
        i += 2;
      } else {
        out += mapping(input.slice(i + 2, close));
        i = close + 1;
      }
    } else {
      out += `$${next}`;
      i += 2;
    }
  }
  return out;
}
