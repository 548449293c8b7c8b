/**
 * The platform policy: api/auth/policy/platform.rego and its data, compiled to WebAssembly by
 * Verdict's own toolchain when first needed (once per process) and evaluated in-process for
 * every admin request. The policy is the single place that says which role or API-key scope
 * may take which action; routes only name their action.
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildBundle } from '../../policies/bundle/build';
import { loadSources } from '../../policies/bundle/sources';
import { formatDiagnostic } from '../../policies/diagnostic';
import { PolicyEngine } from '../../policies/engine';
import { toJSONText } from '../../policies/ir/value';
import type { Principal } from './principal';

/** The entrypoint the admin API asks. */
export const platformEntrypoint = 'verdict/platform/decision';

export interface PlatformInput {
  readonly principal: Principal;
  readonly action: string;
  /** The tenant the request concerns; null when it names none (or one that does not exist). */
  readonly tenantId: string | null;
}

export interface PlatformDecision {
  readonly allow: boolean;
  readonly reason: string;
}

/** The folder holding platform.rego and data.json, found from this installation's root. */
export function platformPolicyDir(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the verdict installation folder');
    dir = up;
  }
  return path.join(dir, 'api', 'auth', 'policy');
}

/** The JSON the policy reads as `input`. */
export function policyInput(input: PlatformInput): Record<string, unknown> {
  const { principal } = input;
  return {
    principal: {
      kind: principal.kind,
      id: principal.id,
      tenant_id: principal.tenantId,
      roles: principal.roles,
      scopes: principal.scopes,
      ...(principal.mfa === undefined ? {} : { mfa: principal.mfa }),
    },
    action: input.action,
    tenant: input.tenantId === null ? null : { id: input.tenantId },
  };
}

export class PlatformPolicy {
  private constructor(
    private readonly engine: PolicyEngine,
    /** The compiled policy's content revision, recorded with every decision. */
    readonly revision: string,
    /** The actions the policy knows, from its data. */
    readonly actions: readonly string[],
  ) {}

  /** Compiles the policy in `dir` (default: the one shipped with Verdict). */
  static async compile(dir = platformPolicyDir()): Promise<PlatformPolicy> {
    const sources = loadSources([dir]);
    const { bundle, diagnostics } = await buildBundle({
      modules: sources.modules,
      data: sources.data,
      entrypoints: [platformEntrypoint],
      manifest: { name: 'verdict-platform', version: '1.0.0' },
    });
    if (bundle === undefined) {
      throw new Error(
        `the platform policy in ${dir} does not compile: ${diagnostics.map(formatDiagnostic).join('; ')}`,
      );
    }
    const data = JSON.parse(toJSONText(sources.data)) as { actions?: Record<string, unknown> };
    const engine = await PolicyEngine.load(bundle.wasm);
    engine.setData(data);
    return new PlatformPolicy(engine, bundle.manifest.revision, Object.keys(data.actions ?? {}));
  }

  private static shared: Promise<PlatformPolicy> | undefined;

  /** The shipped policy, compiled once per process. */
  static load(): Promise<PlatformPolicy> {
    PlatformPolicy.shared ??= PlatformPolicy.compile().catch((err: unknown) => {
      PlatformPolicy.shared = undefined;
      throw err;
    });
    return PlatformPolicy.shared;
  }

  /** Synchronous from input to answer: nothing else can use the instance meanwhile. */
  decide(input: PlatformInput): PlatformDecision {
    const text = this.engine.evaluateJSON(platformEntrypoint, JSON.stringify(policyInput(input)));
    const [first] = JSON.parse(text) as { result?: Partial<PlatformDecision> }[];
    const result = first?.result;
    return {
      allow: result?.allow === true,
      reason: typeof result?.reason === 'string' ? result.reason : 'the policy gave no answer',
    };
  }
}
