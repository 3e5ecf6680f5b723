import { describe, expect, it } from "vitest";
import { parseAllYamlStrict, parseYamlStrict } from "../../src/util/yaml.ts";

describe("strict YAML parsing", () => {
  it("parses YAML and JSON documents to plain values", () => {
    expect(parseYamlStrict("a: 1\nb: [x, y]\n")).toEqual({ a: 1, b: ["x", "y"] });
    expect(parseYamlStrict('{"a": {"b": null}}')).toEqual({ a: { b: null } });
    expect(parseAllYamlStrict("a: 1\n---\nb: 2\n")).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it("refuses what the parser only warns about, such as an unresolved tag, instead of printing it", () => {
    const warn = process.emitWarning;
    const warnings: unknown[] = [];
    process.emitWarning = (w: unknown) => void warnings.push(w);
    try {
      expect(() => parseYamlStrict("a: !!js/function x\n")).toThrow(
        /Unresolved tag: tag:yaml.org,2002:js\/function/,
      );
      expect(() => parseAllYamlStrict("a: 1\n---\nb: !custom 2\n")).toThrow(/Unresolved tag: !custom/);
    } finally {
      process.emitWarning = warn;
    }
    expect(warnings).toEqual([]);
  });

  it("refuses a second document where one is expected", () => {
    expect(() => parseYamlStrict("a: 1\n---\nb: 2\n")).toThrow(/multiple documents/);
  });

  it("refuses duplicate keys and alias bombs", () => {
    expect(() => parseYamlStrict("a: 1\na: 2\n")).toThrow(/unique/);
    // Each level repeats the one before ten times: 10^6 strings from a few lines (billion laughs).
    const levels = ["a", "b", "c", "d", "e", "f"];
    const bomb = levels.map((name, i) =>
      i === 0
        ? `${name}: &${name} [x, x, x, x, x, x, x, x, x, x]`
        : `${name}: &${name} [${Array(10)
            .fill(`*${levels[i - 1]}`)
            .join(", ")}]`,
    );
    expect(() => parseYamlStrict(bomb.join("\n"))).toThrow(/Excessive alias count/);
  });
});
