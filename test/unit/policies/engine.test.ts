import { EngineError, PolicyEngine } from '../../../policies/engine';
import { compileSources } from '../../../policies/query';
import { buildWasm } from '../../../policies/wasm/compile';

async function engineFor(text: string, entrypoints: string[], options = {}): Promise<PolicyEngine> {
  const compiled = compileSources([{ file: 'policy.rego', text }]);
  if (!compiled.program) throw new Error(compiled.diagnostics.map((d) => d.message).join('; '));
  const built = await buildWasm(
    compiled.program,
    entrypoints.map((e) => ({ name: e, path: e.split('/') })),
  );
  if (!built.wasm) throw new Error(built.diagnostics.map((d) => d.message).join('; '));
  return PolicyEngine.load(built.wasm, options);
}

const RBAC = `package authz
default allow := false
allow if {
  input.user.tenant == input.doc.tenant
  input.user.role == "admin"
}
allow if {
  input.user.tenant == input.doc.tenant
  input.action in {"update", "delete"}
  input.doc.owner == input.user.id
}
owners contains o if some o in data.owners`;

describe('PolicyEngine', () => {
  it('evaluates entrypoints of a Verdict-built module through the SDK', async () => {
    const engine = await engineFor(RBAC, ['authz/allow', 'authz/owners']);
    expect(Object.keys(engine.entrypoints).sort()).toEqual(['authz/allow', 'authz/owners']);
    const admin = {
      user: { id: 'a', tenant: 't', role: 'admin' },
      doc: { tenant: 't', owner: 'b' },
      action: 'read',
    };
    const stranger = { ...admin, doc: { tenant: 'u', owner: 'b' } };
    expect(engine.evaluate('authz/allow', admin)).toEqual([{ result: true }]);
    expect(engine.evaluate('authz/allow', stranger)).toEqual([{ result: false }]);
    engine.setData({ owners: ['x', 'y'] });
    expect(engine.evaluate('authz/owners', {})).toEqual([{ result: ['x', 'y'] }]);
  });

  it('takes JSON text in and gives JSON text out, exact for big integers', async () => {
    const engine = await engineFor('package t\nnext := input.n + 1', ['t/next']);
    expect(engine.evaluateJSON('t/next', '{"n": 123456789012345678901}')).toBe(
      '[{"result":123456789012345678902}]',
    );
    expect(engine.evaluateJSON('t/next', '{}')).toBe('[]');
  });

  it('stops a runaway evaluation at the step budget and stays usable', async () => {
    const engine = await engineFor(
      `package t
n := count([1 | some a in numbers.range(1, input.size); some b in numbers.range(1, input.size)])`,
      ['t/n'],
      { stepBudget: 100_000 },
    );
    expect(() => engine.evaluate('t/n', { size: 100_000 })).toThrow(
      expect.objectContaining({ code: 'eval_budget_error' }) as Error,
    );
    expect(engine.evaluate('t/n', { size: 3 })).toEqual([{ result: 9 }]);
  });

  it('stops an evaluation that outgrows its memory cap and stays usable', async () => {
    const engine = await engineFor(
      'package t\nn := count([x | some x in numbers.range(1, input.size)])',
      ['t/n'],
      { maxMemoryPages: 64, stepBudget: 1_000_000_000 },
    );
    let error: unknown;
    try {
      // 900,000 numbers fit the range builtin's limit but not 4 MiB of memory.
      engine.evaluate('t/n', { size: 900_000 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('eval_memory_error');
    expect(engine.evaluate('t/n', { size: 10 })).toEqual([{ result: 10 }]);
  });

  it('reports conflicts as errors with the rule named', async () => {
    const engine = await engineFor('package t\np := input.a\np := input.b', ['t/p']);
    expect(engine.evaluate('t/p', { a: 1, b: 1 })).toEqual([{ result: 1 }]);
    expect(() => engine.evaluate('t/p', { a: 1, b: 2 })).toThrow(
      /rule data\.t\.p produced conflicting values/,
    );
  });

  it('takes input JSON cannot express (sets) in Rego value syntax', async () => {
    const engine = await engineFor(
      'package t\nadmin if "admin" in input.roles\nkind := type_name(input.roles)',
      ['t/admin', 't/kind'],
    );
    expect(engine.evaluateRegoValue('t/admin', '{"roles": {"admin", "dev"}}')).toBe(
      '[{"result":true}]',
    );
    expect(engine.evaluateRegoValue('t/kind', '{"roles": {"admin"}}')).toBe('[{"result":"set"}]');
    expect(() => engine.evaluateRegoValue('t/kind', '{"roles": ')).toThrow(/not a Rego value/);
  });

  it('refuses an unknown entrypoint with a clear error', async () => {
    const engine = await engineFor(RBAC, ['authz/allow']);
    expect(() => engine.evaluateJSON('authz/nope', '{}')).toThrow(
      /no entrypoint named authz\/nope/,
    );
  });
});
