// In-process decisions per second on one RBAC-with-ownership scenario, Verdict beside its
// peers (@casl/ability, casbin, @cedar-policy/cedar-wasm), in one run on the same requests;
// then the CASL example (examples/casl) through Verdict beside @casl/ability itself.
// Usage: npm run bench:inprocess [-- --write]   (N=200000 decisions per engine by default)
// --write also rewrites both tables in docs/benchmarks.md.
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

const rbac = { reqs, truth, rows: [] };
const rows = rbac.rows;
/** Times `fn` over a scenario's 4,096 requests (cycled) after counting its answers equal to the scenario's truth. */
function bench(name, fn, n = N, scenario = rbac) {
  const { reqs, truth } = scenario;
  for (let i = 0; i < 20000 && i < n; i++) fn(reqs[i & 4095]);
  let agree = 0;
  for (let i = 0; i < 4096; i++) if (fn(reqs[i]) === truth(reqs[i])) agree++;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(reqs[i & 4095]);
  const us = Number(process.hrtime.bigint() - t0) / n / 1000;
  scenario.rows.push({ name, us, agree });
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
// The CASL example: examples/casl/rules.json (a documents app: owners, editors, viewers,
// field-level and inverted rules), 200 users, 1,000 documents, 4,096 requests like those in
// examples/casl/cases.yaml. Verdict builds one policy.wasm from the rule set (templates read
// from input.user); CASL gets the rules with the templates filled in for each user.
const casl = require(path.join(root, 'dist/policies/casl/index.js'));
const caslRules = JSON.parse(fs.readFileSync(path.join(root, 'examples/casl/rules.json'), 'utf8'));
// The rule set in decision order, as docs/casl.md states it: a plain list, or with a role
// mapping each role's rules (in the order the roles are written) and then the rules for everyone.
const caslPlaced = Array.isArray(caslRules)
  ? caslRules.map((rule, index) => ({ rule, index }))
  : [
      ...Object.entries(caslRules.roles ?? {}).flatMap(([role, list]) =>
        list.map((rule) => ({ rule, role })),
      ),
      ...(caslRules.rules ?? []).map((rule) => ({ rule })),
    ].map((p, index) => ({ ...p, index }));
const caslRoles = [...new Set(caslPlaced.flatMap((p) => (p.role ? [p.role] : [])))];
const caslUsers = [];
for (let i = 0; i < 200; i++) {
  // Every 10th user holds a role of the mapping (when the rule set has one).
  const role =
    i % 10 === 9 && caslRoles.length > 0
      ? caslRoles[Math.floor(i / 10) % caslRoles.length]
      : undefined;
  caslUsers.push(role ? { id: `u${i}`, roles: [role] } : { id: `u${i}` });
}
const caslDocs = [];
for (let i = 0; i < 1000; i++)
  caslDocs.push({
    id: `d${i}`,
    title: `Document ${i}`,
    owner: { id: `u${(i * 7) % 200}` },
    public: i % 5 === 0,
    viewers: [`u${(i * 3) % 200}`, `u${(i * 13 + 1) % 200}`],
    editors: [`u${(i * 11 + 2) % 200}`],
    status: i % 7 === 0 ? 'archived' : 'draft',
    legalHold: i % 17 === 0,
  });
const caslFields = [undefined, 'title', 'internalNotes', 'owner'];
const caslReqs = [];
for (let i = 0; i < 4096; i++) {
  const doc = caslDocs[(i * 17) % 1000];
  // Who asks: the owner, a viewer, an editor, or a stranger, in turn.
  const who = [doc.owner.id, doc.viewers[0], doc.editors[0], `u${(i * 31) % 200}`][i % 4];
  const field = caslFields[(i >> 2) % 4];
  caslReqs.push({
    user: caslUsers[Number(who.slice(1))],
    action: actions[(i >> 4) % 3],
    subject: 'Document',
    resource: doc,
    ...(field === undefined ? {} : { field }),
  });
}

const caslProgram = casl.compileRuleSet(caslRules, 'examples/casl/rules.json');
const caslBuilt = await casl.buildCaslWasm(caslProgram);
if (!caslBuilt.wasm) throw new Error(JSON.stringify(caslBuilt.diagnostics));
const caslEngine = await PolicyEngine.load(caslBuilt.wasm);
const caslEntrypoint = caslEngine.entrypoints[casl.CASL_ENTRYPOINT];
const caslInterpreter = new casl.CaslInterpreter(casl.planRuleSet(caslProgram));

/** The rules as a CASL application builds them for one signed-in user: its roles' rules and
 * the rules for everyone, templates filled in (each with its index in the rule set). */
const rulesFor = (user) =>
  caslPlaced
    .filter((p) => p.role === undefined || user.roles?.includes(p.role))
    .map((p) => ({
      index: p.index,
      rule: JSON.parse(JSON.stringify(p.rule).replaceAll('${user.id}', user.id)),
    }));
const caslIndexesByUser = new Map(caslUsers.map((u) => [u.id, rulesFor(u)]));
const caslRulesByUser = new Map(
  [...caslIndexesByUser].map(([id, list]) => [id, list.map((p) => p.rule)]),
);
const caslAbilities = new Map(
  caslUsers.map((u) => [u.id, createMongoAbility(caslRulesByUser.get(u.id))]),
);
const typed = (r) => subject(r.subject, { ...r.resource });

// Before timing: Verdict's WASM decision (allow, rule, reason) equals CASL's on every request.
const caslAllow = new Map();
let caslAllowed = 0;
const byRule = new Map();
for (const r of caslReqs) {
  const ability = caslAbilities.get(r.user.id);
  const target = typed(r);
  const rule = ability.relevantRuleFor(r.action, target, r.field);
  const index = rule
    ? (caslIndexesByUser.get(r.user.id).find((p) => p.rule === rule.origin)?.index ?? -1)
    : -1;
  const want = {
    allow: ability.can(r.action, target, r.field),
    reason: rule?.reason ?? null,
    rule: index < 0 ? null : index,
  };
  const got = casl.decisionOf(caslEngine.evaluate(caslEntrypoint, r));
  if (got.allow !== want.allow || got.rule !== want.rule || got.reason !== want.reason)
    throw new Error(
      `CASL example: Verdict ${JSON.stringify(got)} != CASL ${JSON.stringify(want)} on ${JSON.stringify(r)}`,
    );
  caslAllow.set(r, want.allow);
  if (want.allow) caslAllowed++;
  byRule.set(want.rule, (byRule.get(want.rule) ?? 0) + 1);
}
const deciding = [...byRule].sort(([a], [b]) => (a ?? -1) - (b ?? -1));
console.log(
  `\nCASL example: 4096 requests, Verdict WASM = @casl/ability on all (allow, rule, reason); ${caslAllowed} allowed; deciding rule: ${deciding.map(([k, v]) => `${k ?? 'none'} ×${v}`).join(', ')}`,
);
const caslScenario = { reqs: caslReqs, truth: (r) => caslAllow.get(r), rows: [] };

const ALLOWED = '[{"result":{"allow":true,';
bench(
  'Verdict WASM, input object (JSON.stringify)',
  (r) => caslEngine.evaluateJSON(caslEntrypoint, JSON.stringify(r)).startsWith(ALLOWED),
  N,
  caslScenario,
);
const caslSerialized = new Map(caslReqs.map((r) => [r, JSON.stringify(r)]));
bench(
  'Verdict WASM, input already JSON',
  (r) => caslEngine.evaluateJSON(caslEntrypoint, caslSerialized.get(r)).startsWith(ALLOWED),
  N,
  caslScenario,
);
bench(
  'Verdict WASM via SDK evaluate()',
  (r) => caslEngine.evaluate(caslEntrypoint, r)[0]?.result?.allow === true,
  N,
  caslScenario,
);
bench(
  'Verdict reference interpreter (same rules)',
  (r) => caslInterpreter.decide(r).allow,
  Math.min(N, 20000),
  caslScenario,
);
bench(
  '@casl/ability (ability per user, prebuilt)',
  (r) => caslAbilities.get(r.user.id).can(r.action, typed(r), r.field),
  N,
  caslScenario,
);
bench(
  '@casl/ability (ability built per decision)',
  (r) => createMongoAbility(caslRulesByUser.get(r.user.id)).can(r.action, typed(r), r.field),
  Math.min(N, 20000),
  caslScenario,
);

// ---------------------------------------------------------------------------------------------
/** A markdown table of one scenario's rows between `<!-- name:start -->` and `<!-- name:end -->`. */
function tableBlock(name, intro, agreesWith, scenarioRows) {
  return [
    `<!-- ${name}:start -->`,
    intro,
    '',
    `| engine | µs / decision | decisions / s | agrees with ${agreesWith} |`,
    '|---|---:|---:|---:|',
    ...scenarioRows.map(
      (r) =>
        `| ${r.name} | ${r.us.toFixed(2)} | ${Math.round(1e6 / r.us).toLocaleString('en-US')} | ${r.agree}/4096 |`,
    ),
    `<!-- ${name}:end -->`,
  ].join('\n');
}

/** Replaces the marked block in `text`, or appends it when the markers are missing. */
function withBlock(text, name, block) {
  const marked = new RegExp(`<!-- ${name}:start -->[\\s\\S]*<!-- ${name}:end -->`);
  return marked.test(text)
    ? text.replace(marked, () => block)
    : `${text}${text ? '\n' : ''}${block}\n`;
}

if (process.argv.includes('--write')) {
  const file = path.join(root, 'docs/benchmarks.md');
  const machine = `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'})`;
  const small = Math.min(N, 20000);
  const rbacTable = tableBlock(
    'inprocess',
    `Measured by \`npm run bench:inprocess -- --write\` on ${machine}; ${N.toLocaleString('en-US')} decisions per engine (the interpreter and cedar-wasm ${small}).`,
    'the scenario',
    rows,
  );
  const caslTable = tableBlock(
    'inprocess-casl',
    `Measured by \`npm run bench:inprocess -- --write\` on ${machine}; ${N.toLocaleString('en-US')} decisions per engine (the interpreter and the per-decision ability ${small}).`,
    '@casl/ability',
    caslScenario.rows,
  );
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  fs.writeFileSync(
    file,
    withBlock(withBlock(current, 'inprocess', rbacTable), 'inprocess-casl', caslTable),
  );
  console.log(`wrote ${path.relative(root, file)}`);
}
