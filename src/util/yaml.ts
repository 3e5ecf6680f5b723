// YAML parsing for input from users and the network: what the yaml package only warns about (an unresolved
// tag such as `!!js/function`, which it would turn into a plain string) is an error here, as it is for
// upstream's decoder, and nothing is printed on the process's stderr.
import { parseAllDocuments, parseDocument } from "yaml";

// logLevel "error": "silent" would also drop the error for a second document in a single-document source.
const OPTIONS = { uniqueKeys: true, logLevel: "error" } as const;
const TO_JS = { maxAliasCount: 100 } as const;

/** One YAML (or JSON) document as a plain value; throws the first error or warning the parser reported. */
export function parseYamlStrict(text: string): unknown {
  const doc = parseDocument(text, OPTIONS);
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw problem;
  return doc.toJS(TO_JS);
}

/** Every document of a YAML stream as plain values; throws the first error or warning of any document. */
export function parseAllYamlStrict(text: string): unknown[] {
  return parseAllDocuments(text, OPTIONS).map((doc) => {
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw problem;
    return doc.toJS(TO_JS);
  });
}
