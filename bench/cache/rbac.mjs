// The `rbac` workload of bench/cache: examples/rbac, whose rbac/allow looks up a few roles in
// a small data document and evaluates in a few µs, less than a cache lookup costs.

// Inputs built from bench/http's subjects, documents and folders, and actions
// (bench/lib/rbac-mix.mjs).
import { actions, resource, subjects } from '../lib/rbac-mix.mjs';

const resourceCount = 1000;

export const rbacMaxDistinct = subjects.length * actions.length * resourceCount;

/** `count` distinct examples/rbac inputs as JSON texts, in a random order. */
export function rbacInputs(random, count) {
  if (count > rbacMaxDistinct)
    throw new Error(`the rbac workload has at most ${rbacMaxDistinct} distinct inputs`);
  const bodies = [];
  const seen = new Set();
  while (bodies.length < count) {
    const s = Math.floor(random() * subjects.length);
    const a = Math.floor(random() * actions.length);
    const r = Math.floor(random() * resourceCount);
    const id = `${s}/${a}/${r}`;
    if (seen.has(id)) continue;
    seen.add(id);
    bodies.push(
      JSON.stringify({ subject: subjects[s], action: actions[a], resource: resource(r) }),
    );
  }
  return bodies;
}
