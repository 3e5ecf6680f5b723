import { randomBytes } from "node:crypto";

/** A short name unique to this test run, so parallel test files never share runtime objects. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid.toString(36)}-${randomBytes(3).toString("hex")}`;
}
