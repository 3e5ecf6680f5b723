export { DEFAULT_FILTERS, runFilters } from "./filters.ts";
export { fitErrorMessage, NO_NODES_AVAILABLE } from "./fit-error.ts";
export {
  DEFAULT_SCHEDULER_NAME,
  Scheduler,
  type SchedulerOptions,
  type SchedulerStats,
} from "./scheduler.ts";
export { scoreNodes, selectHost } from "./scores.ts";
