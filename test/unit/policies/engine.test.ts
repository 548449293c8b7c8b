import { EngineError, PolicyEngine } from '../../../policies/engine';
import { compileSources } from '../../../policies/query';
import { buildWasm } from '../../../policies/wasm/compile';
import { declaredMemoryMinimum } from '../../../policies/wasm/memory-import';

async function wasmFor(text: string, entrypoints: string[]): Promise<Uint8Array> {
  const compiled = compileSources([{ file: 'policy.rego', text }]);
  if (!compiled.program) throw new Error(compiled.diagnostics.map((d) => d.message).join('; '));
  const built = await buildWasm(
    compiled.program,
    entrypoints.map((e) => ({ name: e, path: e.split('/') })),
  );
  if (!built.wasm) throw new Error(built.diagnostics.map((d) => d.message).join('; '));
  return built.wasm;
}

async function engineFor(text: string, entrypoints: string[], options = {}): Promise<PolicyEngine> {
  return PolicyEngine.load(await wasmFor(text, entrypoints), options);
}

/**
 * The module with its `env.memory` import declaring `pages` as its minimum, as modules built by
 * `opa build -t wasm` may: the import's limits are rewritten in place (both one-byte numbers).
 */
function withDeclaredMinimum(wasm: Uint8Array, pages: number): Uint8Array {
  const entry = [3, ...Buffer.from('env'), 6, ...Buffer.from('memory'), 0x02, 0x00];
  const at = Buffer.from(wasm).indexOf(Buffer.from(entry));
  if (at < 0 || pages > 127) throw new Error('no one-byte env.memory minimum to rewrite');
  const copy = new Uint8Array(wasm);
  copy[at + entry.length] = pages;
  return copy;
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

describe('PolicyEngine memory', () => {
  it("starts a Verdict-built module's memory at the minimum it declares, and grows it as needed", async () => {
    const wasm = await wasmFor(RBAC, ['authz/allow', 'authz/owners']);
    expect(declaredMemoryMinimum(wasm)).toBe(1);
    const engine = await PolicyEngine.load(wasm);
    expect(engine.memoryPages).toBe(1);
    const admin = { user: { id: 'a', tenant: 't', role: 'admin' }, doc: { tenant: 't' } };
    expect(engine.evaluate('authz/allow', admin)).toEqual([{ result: true }]);
    // Data and input larger than the first page: the memory grows past its start.
    const owners = Array.from({ length: 5000 }, (_, i) => `owner-${i}`);
    engine.setData({ owners });
    const answer = engine.evaluateJSON(
      'authz/owners',
      JSON.stringify({ pad: 'x'.repeat(100_000) }),
    );
    const [first] = JSON.parse(answer) as [{ result: string[] }];
    expect(first.result).toHaveLength(owners.length);
    expect(first.result).toContain('owner-4999');
    expect(engine.memoryPages).toBeGreaterThan(1);
  });

  it('starts at a larger declared minimum (as OPA-built modules have) and evaluates', async () => {
    const wasm = withDeclaredMinimum(await wasmFor(RBAC, ['authz/allow']), 40);
    expect(declaredMemoryMinimum(wasm)).toBe(40);
    const engine = await PolicyEngine.load(wasm, { maxMemoryPages: 64 });
    expect(engine.memoryPages).toBe(40);
    const admin = { user: { id: 'a', tenant: 't', role: 'admin' }, doc: { tenant: 't' } };
    expect(engine.evaluate('authz/allow', admin)).toEqual([{ result: true }]);
    expect(engine.evaluateJSON('authz/allow', '{"user": {"tenant": "u"}}')).toBe(
      '[{"result":false}]',
    );
  });

  it('refuses, with what to do, a module whose declared minimum exceeds the memory cap', async () => {
    const wasm = withDeclaredMinimum(await wasmFor(RBAC, ['authz/allow']), 40);
    await expect(PolicyEngine.load(wasm, { maxMemoryPages: 32 })).rejects.toMatchObject({
      code: 'eval_memory_error',
      message: expect.stringMatching(
        /needs at least 40 pages .* only 32: raise the engine memory cap/,
      ) as unknown,
    });
  });
});
