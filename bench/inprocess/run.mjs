// In-process decisions per second on one RBAC-with-ownership scenario, Verdict beside its
// peers (@casl/ability, casbin, @cedar-policy/cedar-wasm), in one run on the same requests.
// Usage: npm run bench:inprocess [-- --write]   (N=200000 decisions per engine by default)
// --write also rewrites the table in docs/benchmarks.md.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import console from 'node:console';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { compileSources } = require(path.join(root, 'dist/policies/query.js'));
const { buildWasm } = require(path.join(root, 'dist/policies/wasm/compile.js'));
const { PolicyEngine } = require(path.join(root, 'dist/policies/engine.js'));
const { planQuery } = require(path.join(root, 'dist/policies/query.js'));
const { Interpreter } = require(path.join(root, 'dist/policies/ir/interpret.js'));
const { fromJS } = require(path.join(root, 'dist/policies/ir/value.js'));

const N = Number(process.env.N ?? 200000);

// ---------------------------------------------------------------------------------------------
// The scenario: 1,000 users in 10 tenants, 1,000 documents, 4,096 requests.
const users = [];
for (let i = 0; i < 1000; i++)
  users.push({ id: `u${i}`, tenant: `t${i % 10}`, role: ['admin', 'editor', 'viewer'][i % 3] });
const docs = [];
for (let i = 0; i < 1000; i++)
  docs.push({ id: `d${i}`, tenant: `t${i % 10}`, owner: `u${(i * 7) % 1000}` });
const actions = ['read', 'update', 'delete'];
const reqs = [];
for (let i = 0; i < 4096; i++)
  reqs.push({ user: users[(i * 31) % 1000], doc: docs[(i * 17) % 1000], action: actions[i % 3] });

function truth(r) {
  if (r.user.tenant !== r.doc.tenant) return false;
  if (r.user.role === 'admin') return true;
  if (r.action === 'delete') return r.doc.owner === r.user.id;
  if (r.action === 'update') return r.user.role === 'editor' || r.doc.owner === r.user.id;
  return true;
}

const rows = [];
function bench(name, fn, n = N) {
  for (let i = 0; i < 20000 && i < n; i++) fn(reqs[i & 4095]);
  let agree = 0;
  for (let i = 0; i < 4096; i++) if (fn(reqs[i]) === truth(reqs[i])) agree++;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(reqs[i & 4095]);
  const us = Number(process.hrtime.bigint() - t0) / n / 1000;
  rows.push({ name, us, agree });
  console.log(
    `${name.padEnd(44)} ${us.toFixed(2).padStart(8)} µs/decision ${Math.round(1e6 / us)
      .toLocaleString('en-US')
      .padStart(12)} decisions/s  agree=${agree}/4096`,
  );
}

// ---------------------------------------------------------------------------------------------
// Verdict: the policy compiled to WASM by Verdict, loaded with the opa-wasm SDK.
const text = fs.readFileSync(path.join(root, 'bench/inprocess/policy.rego'), 'utf8');
const compiled = compileSources([{ file: 'policy.rego', text }]);
if (!compiled.program) throw new Error(JSON.stringify(compiled.diagnostics));
const built = await buildWasm(compiled.program, [
  { name: 'authz/allow', path: ['authz', 'allow'] },
]);
if (!built.wasm) throw new Error(JSON.stringify(built.diagnostics));
const engine = await PolicyEngine.load(built.wasm);
const TRUE = '[{"result":true}]';
bench(
  'Verdict WASM, input object (JSON.stringify)',
  (r) => engine.evaluateJSON(0, JSON.stringify(r)) === TRUE,
);
const serialized = reqs.map((r) => JSON.stringify(r));
const index = new Map(reqs.map((r, i) => [r, i]));
bench(
  'Verdict WASM, input already JSON',
  (r) => engine.evaluateJSON(0, serialized[index.get(r)]) === TRUE,
);
bench('Verdict WASM via SDK evaluate()', (r) => engine.evaluate(0, r)[0]?.result === true);
// The reference interpreter on the same plan (compiled once), for scale: it is the semantic
// reference and powers `verdict eval`, not the production path.
const planned = planQuery(compiled.program, 'x := data.authz.allow');
const interpreter = new Interpreter(planned.policy);
const emptyData = fromJS({});
bench(
  'Verdict reference interpreter (same plan)',
  (r) => {
    const rows = interpreter.run('query', fromJS(r), emptyData);
    return rows.length === 1 && rows[0].get('x') === true;
  },
  Math.min(N, 20000),
);

// ---------------------------------------------------------------------------------------------
// Peers, set up as in ../shared/anchors/inprocess-peers.js.
const { createMongoAbility, subject } = require('@casl/ability');
const abilities = new Map();
for (const u of users) {
  const rules = [];
  if (u.role === 'admin')
    rules.push({ action: 'manage', subject: 'Doc', conditions: { tenant: u.tenant } });
  else {
    rules.push({ action: 'read', subject: 'Doc', conditions: { tenant: u.tenant } });
    if (u.role === 'editor')
      rules.push({ action: 'update', subject: 'Doc', conditions: { tenant: u.tenant } });
    rules.push({
      action: ['update', 'delete'],
      subject: 'Doc',
      conditions: { tenant: u.tenant, owner: u.id },
    });
  }
  abilities.set(u.id, createMongoAbility(rules));
}
bench('@casl/ability (ability per user, prebuilt)', (r) =>
  abilities.get(r.user.id).can(r.action, subject('Doc', { ...r.doc })),
);

const casbin = require('casbin');
const model = casbin.newModelFromString(`
[request_definition]
r = sub, obj, act
[policy_definition]
p = role, act
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.sub.tenant == r.obj.tenant && ((r.sub.role == p.role && (p.act == "*" || p.act == r.act)) || (r.sub.id == r.obj.owner && (r.act == "update" || r.act == "delete")))
`);
const enforcer = await casbin.newEnforcer(model);
await enforcer.addPolicy('admin', '*');
await enforcer.addPolicy('editor', 'read');
await enforcer.addPolicy('editor', 'update');
await enforcer.addPolicy('viewer', 'read');
bench('casbin (enforceSync)', (r) => enforcer.enforceSync(r.user, r.doc, r.action));

const cedar = require('@cedar-policy/cedar-wasm/nodejs');
const cedarPolicies = `
permit(principal, action, resource) when { principal.tenant == resource.tenant && principal.role == "admin" };
permit(principal, action == Action::"read", resource) when { principal.tenant == resource.tenant };
permit(principal, action == Action::"update", resource) when { principal.tenant == resource.tenant && (principal.role == "editor" || resource.owner == principal) };
permit(principal, action == Action::"delete", resource) when { principal.tenant == resource.tenant && resource.owner == principal };`;
cedar.preparsePolicySet('p', { staticPolicies: cedarPolicies });
bench(
  '@cedar-policy/cedar-wasm',
  (r) => {
    const ans = cedar.statefulIsAuthorized({
      principal: { type: 'User', id: r.user.id },
      action: { type: 'Action', id: r.action },
      resource: { type: 'Doc', id: r.doc.id },
      context: {},
      preparsedPolicySetId: 'p',
      entities: [
        {
          uid: { type: 'User', id: r.user.id },
          attrs: { tenant: r.user.tenant, role: r.user.role },
          parents: [],
        },
        {
          uid: { type: 'Doc', id: r.doc.id },
          attrs: { tenant: r.doc.tenant, owner: { __entity: { type: 'User', id: r.doc.owner } } },
          parents: [],
        },
      ],
    });
    return ans.type === 'success' && ans.response.decision === 'allow';
  },
  Math.min(N, 20000),
);
bench('plain JS function (floor)', truth);

// ---------------------------------------------------------------------------------------------
if (process.argv.includes('--write')) {
  const file = path.join(root, 'docs/benchmarks.md');
  const table = [
    `<!-- inprocess:start -->`,
    `Measured by \`npm run bench:inprocess -- --write\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}); ${N.toLocaleString('en-US')} decisions per engine (the interpreter and cedar-wasm ${Math.min(N, 20000)}).`,
    '',
    '| engine | µs / decision | decisions / s | agrees with the scenario |',
    '|---|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.us.toFixed(2)} | ${Math.round(1e6 / r.us).toLocaleString('en-US')} | ${r.agree}/4096 |`,
    ),
    `<!-- inprocess:end -->`,
  ].join('\n');
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const next = /<!-- inprocess:start -->[\s\S]*<!-- inprocess:end -->/.test(current)
    ? current.replace(/<!-- inprocess:start -->[\s\S]*<!-- inprocess:end -->/, table)
    : `${current}${current ? '\n' : ''}${table}\n`;
  fs.writeFileSync(file, next);
  console.log(`wrote ${path.relative(root, file)}`);
}
