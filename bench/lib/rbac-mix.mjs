// The examples/rbac request mix the benches share: seven subjects (admins, an editor, a viewer,
// one without a role, one claiming a tenant where he holds none), 1,000 documents and folders
// in two tenants (30% of acme users' requests cross tenants), four actions.

export const subjects = [
  { id: 'alice', tenant: 'acme' },
  { id: 'bob', tenant: 'acme' },
  { id: 'carol', tenant: 'acme' },
  { id: 'erin', tenant: 'acme' }, // no role: only what she owns
  { id: 'dave', tenant: 'globex' },
  { id: 'dave', tenant: 'acme' }, // claims a tenant where he holds no role
  { id: 'frank', tenant: 'globex' },
];
export const owners = ['alice', 'bob', 'carol', 'erin', 'dave', 'frank'];
export const actions = ['read', 'update', 'delete', 'share'];

/** Resource `i` of the mix's 1,000. */
export const resource = (i) => ({
  type: i % 4 === 3 ? 'folder' : 'document',
  id: `d${i}`,
  tenant: i % 10 < 7 ? 'acme' : 'globex',
  owner: owners[(i * 7) % owners.length],
});
export const resources = Array.from({ length: 1000 }, (_, i) => resource(i));

/** A seeded generator of whole numbers below `n` (a linear congruential one: repeatable). */
export function seededRandom(seed) {
  let state = seed;
  return (n) => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % n;
  };
}

/** `length` requests `{subject, resource, action}`, the same for the same seed. */
export function rbacMix(length = 4096, seed = 20261127) {
  const random = seededRandom(seed);
  return Array.from({ length }, () => ({
    subject: subjects[random(subjects.length)],
    resource: resources[random(resources.length)],
    action: actions[random(actions.length)],
  }));
}
