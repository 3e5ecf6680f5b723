import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config.ts";

// `npm run test:chaos`: the agent kill -9 / churn suites (test/reliability/*.chaos.ts). They are kept out of
// `npm test` until an intermittent convergence failure on CRI is understood (see the README's Reliability
// section); run them on their own, where they pass most of the time and fail loudly when they do not.
export default mergeConfig(base, defineConfig({ test: { include: ["test/reliability/*.chaos.ts"] } }));
