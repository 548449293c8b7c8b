// The `drive` workload of bench/cache: a document drive whose authorization walks its data.
// Users belong to teams, teams to departments, departments to divisions, and users and teams
// to project groups; folders nest up to eight deep under shared drives; access comes from a
// list of shares (principal, folder or document, role) and is blocked for deletion under a
// folder on legal hold. A decision takes the closure of the subject's groups and of the
// resource's folders (graph.reachable) and scans every share: the expensive kind of policy a
// decision cache is for. Everything is generated from a seed; nothing is committed as data.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const drivePolicy = `# A document drive: nested groups, a folder tree and a list of shares.
#
# Input:
#   {"subject": {"id": "u042"}, "action": "update", "resource": {"id": "doc-1234"}}
package drive

default allow := false

allow if {
	some role in roles
	input.action in data.role_actions[role]
	not held
}

# The subject and every group it is in, directly or through groups of groups.
principals := graph.reachable(data.member_of, {input.subject.id})

# The resource and every folder above it.
ancestors := graph.reachable(data.parent, {input.resource.id})

# Roles the subject holds on the resource, by shares on it or on a folder above it.
roles contains share.role if {
	some share in data.shares
	share.resource in ancestors
	share.principal in principals
}

# Nothing under a folder on legal hold may be deleted.
held if {
	input.action == "delete"
	some folder in data.legal_holds
	folder in ancestors
}
`;

const manifest = {
  name: 'drive',
  version: '1.0.0',
  roots: ['drive'],
  entrypoints: ['drive/allow'],
  metadata: { description: 'Document drive: nested groups, folder tree, shares (bench/cache)' },
};

export const driveActions = ['read', 'comment', 'update', 'delete', 'share'];
const roleActions = {
  viewer: ['read'],
  commenter: ['read', 'comment'],
  editor: ['read', 'comment', 'update', 'share'],
  owner: ['read', 'comment', 'update', 'delete', 'share'],
};
const pad = (i, width) => String(i).padStart(width, '0');

/** One of `items`, with the given weights (same length), drawn with `random`. */
function weighted(random, items, weights) {
  let u = random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < items.length; i++) if ((u -= weights[i]) < 0) return items[i];
  return items[items.length - 1];
}

/**
 * The drive's data document, drawn with `random` (uniform in [0, 1)): sizes chosen so that
 * `member_of`, `parent` and `shares` hold a few thousand entries each.
 */
export function driveData(random) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  const users = Array.from({ length: 800 }, (_, i) => `u${pad(i, 3)}`);
  const divisions = Array.from({ length: 4 }, (_, i) => `division-${i}`);
  const departments = Array.from({ length: 16 }, (_, i) => `dept-${pad(i, 2)}`);
  const teams = Array.from({ length: 64 }, (_, i) => `team-${pad(i, 2)}`);
  const programs = Array.from({ length: 24 }, (_, i) => `program-${pad(i, 2)}`);
  const projects = Array.from({ length: 320 }, (_, i) => `project-${pad(i, 3)}`);

  // member_of: node -> the groups it is directly in (every node a key, as graph.reachable needs).
  const memberOf = { 'all-staff': [] };
  for (const d of divisions) memberOf[d] = ['all-staff'];
  departments.forEach((d, i) => (memberOf[d] = [divisions[i % divisions.length]]));
  teams.forEach((t, i) => (memberOf[t] = [departments[i % departments.length]]));
  for (const p of programs) memberOf[p] = [];
  for (const p of projects) memberOf[p] = random() < 0.6 ? [pick(programs)] : [];
  for (const t of teams) if (random() < 0.3) memberOf[t].push(pick(projects));
  for (const u of users) {
    const groups = new Set([pick(teams)]);
    if (random() < 0.2) groups.add(pick(teams));
    const projectCount = Math.floor(random() * 4);
    for (let k = 0; k < projectCount; k++) groups.add(pick(projects));
    memberOf[u] = [...groups];
  }

  // parent: resource -> [its folder]; 8 shared drives, 1,200 folders, 3,600 documents.
  const parent = {};
  const depth = {};
  const folders = [];
  for (let i = 0; i < 8; i++) {
    const drive = `drive-${i}`;
    parent[drive] = [];
    depth[drive] = 0;
    folders.push(drive);
  }
  for (let i = 0; i < 1200; i++) {
    const id = `folder-${pad(i, 4)}`;
    let above = pick(folders);
    while (depth[above] >= 7) above = pick(folders);
    parent[id] = [above];
    depth[id] = depth[above] + 1;
    folders.push(id);
  }
  const documents = [];
  for (let i = 0; i < 3600; i++) {
    const id = `doc-${pad(i, 4)}`;
    parent[id] = [pick(folders)];
    documents.push(id);
  }

  // shares: the drives to departments and divisions, then 3,000 on folders and documents.
  const groupsByKind = [users, teams, projects, departments];
  const shares = [];
  for (const drive of folders.slice(0, 8)) {
    shares.push({ principal: pick(departments), resource: drive, role: 'editor' });
    shares.push({ principal: pick(divisions), resource: drive, role: 'viewer' });
  }
  for (let i = 0; i < 3000; i++) {
    const resource = random() < 0.8 ? pick(folders) : pick(documents);
    const principal = pick(weighted(random, groupsByKind, [50, 25, 15, 10]));
    const role = weighted(random, Object.keys(roleActions), [40, 15, 35, 10]);
    shares.push({ principal, resource, role });
  }
  const legalHolds = Array.from({ length: 24 }, () => pick(folders.slice(8)));

  return {
    users,
    documents,
    folders,
    data: {
      member_of: memberOf,
      parent,
      shares,
      legal_holds: [...new Set(legalHolds)],
      role_actions: roleActions,
    },
  };
}

/** Every node reachable from `start` along `edges` (start included when it is a key). */
function closure(edges, start) {
  const reached = new Set();
  const queue = [start];
  for (const node of queue) {
    if (reached.has(node) || edges[node] === undefined) continue;
    reached.add(node);
    queue.push(...edges[node]);
  }
  return reached;
}

/** drive/allow computed in JavaScript, to check the compiled policy's answers against. */
export function driveAllow(data, input) {
  const principals = closure(data.member_of, input.subject.id);
  const ancestors = closure(data.parent, input.resource.id);
  const roles = new Set(
    data.shares
      .filter((s) => ancestors.has(s.resource) && principals.has(s.principal))
      .map((s) => s.role),
  );
  const held =
    input.action === 'delete' && data.legal_holds.some((folder) => ancestors.has(folder));
  return !held && [...roles].some((role) => data.role_actions[role].includes(input.action));
}

/**
 * `count` distinct drive inputs as JSON texts, in a random order. Half pick a resource at or
 * below something shared with one of the subject's groups (so a fair share is allowed), the
 * rest any resource.
 */
export function driveInputs(generated, random, count) {
  const { data, users, documents, folders } = generated;
  const pick = (list) => list[Math.floor(random() * list.length)];
  const children = {};
  for (const [child, [above]] of Object.entries(data.parent))
    if (above !== undefined) (children[above] ??= []).push(child);
  const sharedWith = users.map((u) => {
    const principals = closure(data.member_of, u);
    return data.shares.filter((s) => principals.has(s.principal)).map((s) => s.resource);
  });
  const resources = [...folders, ...documents];
  const max = users.length * driveActions.length * resources.length;
  if (count > max) throw new Error(`the drive workload has at most ${max} distinct inputs`);
  const bodies = [];
  const seen = new Set();
  while (bodies.length < count) {
    const s = Math.floor(random() * users.length);
    const action = pick(driveActions);
    let resource;
    if (random() < 0.5 && sharedWith[s].length > 0) {
      // Down from a shared resource, one level at a time, stopping at random.
      resource = pick(sharedWith[s]);
      while (children[resource] !== undefined && random() < 0.7)
        resource = pick(children[resource]);
    } else resource = pick(resources);
    const id = `${s}/${action}/${resource}`;
    if (seen.has(id)) continue;
    seen.add(id);
    bodies.push(JSON.stringify({ subject: { id: users[s] }, action, resource: { id: resource } }));
  }
  return bodies;
}

/** Writes the drive bundle folder (.manifest, policy.rego, data.json) under `dir`. */
export function writeDriveBundle(dir, data) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, '.manifest'), JSON.stringify(manifest));
  fs.writeFileSync(path.join(dir, 'policy.rego'), drivePolicy);
  fs.writeFileSync(path.join(dir, 'data.json'), JSON.stringify(data));
  return dir;
}
