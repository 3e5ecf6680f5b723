// Just enough of systemd's unit-file semantics to run a service's ExecStart= the way systemd would:
// sections and keys (comments, line continuations, repeated keys), Environment= assignments, the
// EnvironmentFile= that overrides them, and ExecStart='s word splitting and variable expansion
// (systemd.service(5) "Command lines"; systemd.exec(5) "Environment").
import { existsSync, readFileSync } from "node:fs";

export type Unit = Map<string, Map<string, string[]>>;

export function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, " ").split("\n");
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1] as string, section);
      continue;
    }
    const eq = line.indexOf("=");
    if (!section || eq < 0) throw new Error(`unit file: cannot parse line ${JSON.stringify(raw)}`);
    const key = line.slice(0, eq).trim();
    const values = section.get(key) ?? [];
    values.push(line.slice(eq + 1).trim());
    section.set(key, values);
  }
  return unit;
}

/** Every value of a key (repeated keys accumulate); [] when absent. */
export function values(unit: Unit, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

/** Splits a command line or an Environment= value into words, honouring double and single quotes. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (const match of text.matchAll(pattern)) {
    words.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, "$1") : (match[2] ?? match[3] ?? ""));
  }
  return words;
}

/** KEY=value lines of an EnvironmentFile= (comments and blank lines skipped, optional quotes removed). */
export function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const value = line.slice(eq + 1).trim();
    env[line.slice(0, eq).trim()] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
  }
  return env;
}

/** The service's environment: Environment= in order, then each EnvironmentFile= ("-" prefix: optional). */
export function serviceEnvironment(unit: Unit): Record<string, string> {
  const env: Record<string, string> = {};
  for (const value of values(unit, "Service", "Environment")) {
    for (const word of splitWords(value)) {
      const eq = word.indexOf("=");
      if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  for (const value of values(unit, "Service", "EnvironmentFile")) {
    const optional = value.startsWith("-");
    const path = optional ? value.slice(1) : value;
    if (!existsSync(path)) {
      if (optional) continue;
      throw new Error(`EnvironmentFile ${path} does not exist`);
    }
    Object.assign(env, parseEnvironmentFile(readFileSync(path, "utf8")));
  }
  return env;
}

/**
 * ExecStart= as argv: "${VAR}" is replaced in place (one word), a word that is exactly "$VAR" becomes the
 * variable's whitespace-separated words (none when empty). Exactly one ExecStart= is expected.
 */
export function execStart(unit: Unit, env: Record<string, string>): string[] {
  const lines = values(unit, "Service", "ExecStart");
  if (lines.length !== 1) throw new Error(`expected one ExecStart=, found ${lines.length}`);
  const command = (lines[0] as string).replace(/^[-@:+!]+/, "");
  const argv: string[] = [];
  for (const word of splitWords(command)) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) {
      argv.push(...(env[whole[1] as string] ?? "").split(/\s+/).filter(Boolean));
      continue;
    }
    argv.push(word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? ""));
  }
  return argv;
}
