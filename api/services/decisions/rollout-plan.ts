/**
 * Which version of a bundle answers a request, and which one (if any) is evaluated beside it
 * for comparison. Without a rollout the stable version answers alone. Under a canary, the
 * request's sticky bucket picks stable or canary; a request served by the canary is also
 * evaluated on stable, so the rollout's disagreement rate compares the two on the canary's
 * own traffic. Under a shadow, stable answers and the candidate is evaluated beside it.
 */
import type { RolloutArm } from '../audit';
import { inCanary, stickyKey } from '../rollouts/assign';
import {
  routeInBundle,
  routePath,
  type LoadedBundle,
  type LoadedRollout,
  type Route,
  type TenantEngines,
} from './engine-pool';

/** A version that evaluates a request; `route` is undefined when it has no such entrypoint. */
export interface Target {
  readonly bundle: LoadedBundle;
  readonly route: Route | undefined;
}

export interface DecisionPlan {
  /** Undefined when no bundle answers the path: the decision is undefined. */
  readonly served?: Target;
  readonly rollout?: {
    readonly rollout: LoadedRollout;
    readonly servedArm: RolloutArm;
    /** Evaluated after the answer is sent, logged beside it, never returned. */
    readonly compared?: Target & { readonly arm: RolloutArm };
  };
}

export function planDecision(
  engines: TenantEngines,
  request: { readonly path: readonly string[]; readonly input?: unknown; readonly caller: string },
): DecisionPlan {
  const route = routePath(engines, request.path);
  if (route === undefined) return {};
  const stable: Target = { bundle: route.bundle, route };
  const rollout = route.bundle.rollout;
  if (rollout === undefined) return { served: stable };
  const candidate: Target = {
    bundle: rollout.candidate,
    route: routeInBundle(rollout.candidate, request.path),
  };
  if (
    rollout.mode === 'canary' &&
    inCanary(
      rollout.id,
      rollout.percent,
      stickyKey(rollout.stickyKeys, request.input, request.caller),
    )
  ) {
    return {
      served: candidate,
      rollout: { rollout, servedArm: 'canary', compared: { ...stable, arm: 'stable' } },
    };
  }
  return {
    served: stable,
    rollout: {
      rollout,
      servedArm: 'stable',
      ...(rollout.mode === 'shadow' ? { compared: { ...candidate, arm: 'shadow' as const } } : {}),
    },
  };
}
