/**
 * A candidate bundle made ready to answer recorded decisions: prepared exactly as an upload
 * is (checked, compiled when it carries no policy.wasm) but never stored, loaded into an
 * engine of its own, and asked at a recorded path the way the decision path asks it.
 */
import { EngineError, PolicyEngine, type EngineOptions } from '../../../policies/engine';
import { messageOf } from '../../errors';
import {
  prepareBundle,
  type PreparedBundle,
  type SigningPolicy,
  type UploadOverrides,
} from '../bundles/prepare';
import { descend, firstResult } from '../decisions/service';
import { routePath, type LoadedBundle, type TenantEngines } from '../decisions/engine-pool';
import { candidateOutcome, type ReplayOutcome } from './compare';

export interface Candidate {
  readonly name: string;
  readonly version: string;
  readonly revision: string;
  readonly signatureStatus: PreparedBundle['signatureStatus'];
  readonly mask: readonly string[];
  /** The candidate's answer at `path` (`rbac/allow`) for a recorded input. */
  evaluate(path: string, input: unknown): ReplayOutcome;
}

function segments(text: string): string[] {
  return text === '' ? [] : text.split('/');
}

export async function loadCandidate(
  tarGz: Uint8Array,
  options: {
    readonly overrides: UploadOverrides;
    readonly signing: SigningPolicy;
    readonly engine?: EngineOptions;
  },
): Promise<Candidate> {
  const prepared = await prepareBundle(tarGz, options);
  // prepareBundle has loaded this wasm with this data once already, so loading cannot fail here.
  const engine = await PolicyEngine.load(prepared.wasm, options.engine);
  engine.setData(prepared.data);
  const { manifest } = prepared;
  const mask = [...(manifest.mask ?? [])];
  const roots = manifest.roots.length === 0 ? [''] : manifest.roots;
  const bundle: LoadedBundle = {
    bundleId: 'candidate',
    name: manifest.name,
    versionId: 'candidate',
    version: manifest.version,
    revision: manifest.revision,
    engine,
    roots: roots.map(segments),
    mask,
    cache: 'off',
  };
  const engines: TenantEngines = { tenantId: 'candidate', bundles: [bundle], loadedAt: new Date() };
  return {
    name: manifest.name,
    version: manifest.version,
    revision: manifest.revision,
    signatureStatus: prepared.signatureStatus,
    mask,
    evaluate(path, input) {
      const route = routePath(engines, segments(path));
      if (route === undefined) return { kind: 'undefined' };
      try {
        const text = engine.evaluateJSON(
          route.entrypoint,
          input === undefined ? undefined : JSON.stringify(input),
        );
        const answer = firstResult(text);
        return candidateOutcome(
          route.below.length === 0 ? answer : descend(answer.result, route.below),
        );
      } catch (err) {
        const code = err instanceof EngineError ? err.code : 'eval_internal_error';
        return { kind: 'error', code, message: messageOf(err) };
      }
    },
  };
}
