// Case counts for the property-based fuzz tests: bounded for CI, scaled up with DECKHAND_FUZZ_SCALE (e.g. 20
// for a long local run). Every fuzz test prints how many cases it ran, and the total is summed for the README.

const scale = Number(process.env.DECKHAND_FUZZ_SCALE ?? "1");

/** The number of runs for a property: its CI count times DECKHAND_FUZZ_SCALE. */
export function fuzzRuns(ciCount: number): number {
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new Error(`DECKHAND_FUZZ_SCALE must be a positive number, got ${process.env.DECKHAND_FUZZ_SCALE}`);
  }
  return Math.max(1, Math.round(ciCount * scale));
}

/** One line per property in the test output: "fuzz: <what>: <n> cases". */
export function reportCases(what: string, cases: number): void {
  console.log(`fuzz: ${what}: ${cases} cases`);
}
