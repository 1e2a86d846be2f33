/**
 * Fixtures several test files share, so a field added to a schema is added here once.
 *
 * @module
 */
import type { ClusterResult } from "../../lib/cluster.ts";
import type { Metrics } from "../../lib/tasks/schema.ts";

/**
 * A complete {@linkcode Metrics} record: 10 items, all parsed, no errors, no breakdowns,
 * score 0, confidence 0.8, Brier 0.2 and ECE 0.1, with `fields` overriding any of them.
 */
export function metricsFixture(fields: Partial<Metrics> = {}): Metrics {
  return {
    n: 10,
    parsed: 10,
    score: 0,
    fullCredit: 0,
    avgConfidence: 0.8,
    brier: 0.2,
    ece: 0.1,
    formatErrorRate: 0,
    errorRate: 0,
    perSubtask: {},
    extra: {},
    ...fields,
  };
}

/**
 * A complete {@linkcode ClusterResult} with nothing clustered: no records, groups, topics,
 * calls, fallbacks or errors, with `fields` overriding any of them.
 */
export function clusterResultFixture(fields: Partial<ClusterResult> = {}): ClusterResult {
  return {
    k: 0,
    records: 0,
    groups: 0,
    groupOf: [],
    sample: [],
    topics: [],
    assignments: [],
    fallbacks: { count: 0, records: [] },
    padded: [],
    trimmed: [],
    calls: { extraction: 0, assignment: 0, embedding: 0 },
    errors: [],
    failedCalls: { failed: 0, of: 0 },
    ...fields,
  };
}
