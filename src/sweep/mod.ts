/**
 * Many seeds of one training run: statistics across seeds (mean, IQM, bootstrap
 * intervals).
 *
 * @module
 */

export * from "./stats.ts";
