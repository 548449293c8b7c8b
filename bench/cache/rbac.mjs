// The `rbac` workload of bench/cache: examples/rbac, whose rbac/allow looks up a few roles in
// a small data document and evaluates in a few µs, less than a cache lookup costs.

// Inputs built like bench/http's: seven subjects (admins, an editor, a viewer, one without a
// role, one claiming a tenant where he holds none), 1,000 documents and folders in two
// tenants, four actions.
const subjects = [
  { id: 'alice', tenant: 'acme' },
  { id: 'bob', tenant: 'acme' },
  { id: 'carol', tenant: 'acme' },
  { id: 'erin', tenant: 'acme' },
  { id: 'dave', tenant: 'globex' },
  { id: 'dave', tenant: 'acme' },
  { id: 'frank', tenant: 'globex' },
];
const owners = ['alice', 'bob', 'carol', 'erin', 'dave', 'frank'];
const actions = ['read', 'update', 'delete', 'share'];
const resourceCount = 1000;

export const rbacMaxDistinct = subjects.length * actions.length * resourceCount;

const resource = (i) => ({
  type: i % 4 === 3 ? 'folder' : 'document',
  id: `d${i}`,
  tenant: i % 10 < 7 ? 'acme' : 'globex',
  owner: owners[(i * 7) % owners.length],
});

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
