/**
 * The routes an Express application serves, read off its router stacks, with their paths as
 * OpenAPI path templates: `/v1/tenants/:tenant` is `/v1/tenants/{tenant}`, and an optional
 * group `/v1/data{/*path}` gives both `/v1/data` and `/v1/data/{path}`. Middleware mounted
 * under a path that answers requests itself (a static folder) is listed as a mount.
 */
import type { Express } from 'express';

interface Layer {
  readonly route?: { readonly path: string | string[]; readonly methods: Record<string, boolean> };
  readonly handle?: { readonly stack?: readonly Layer[] };
  readonly rawPath?: string | string[];
  readonly slash?: boolean;
}

export interface ServedRoute {
  /** Upper-case method, as HTTP spells it. */
  readonly method: string;
  /** OpenAPI path template. */
  readonly template: string;
  /** The path as Express was given it. */
  readonly expressPath: string;
}

export interface Served {
  readonly routes: ServedRoute[];
  /** Paths under which mounted middleware answers requests (`/console`). */
  readonly mounts: string[];
}

/** Each way to write a path with its optional `{...}` groups in or out. */
function expandOptional(path: string): string[] {
  const open = path.indexOf('{');
  if (open < 0) return [path];
  let depth = 0;
  let close = open;
  for (; close < path.length; close++) {
    if (path[close] === '{') depth++;
    if (path[close] === '}' && --depth === 0) break;
  }
  const before = path.slice(0, open);
  const inner = path.slice(open + 1, close);
  const after = path.slice(close + 1);
  return [...expandOptional(before + after), ...expandOptional(before + inner + after)];
}

/** `:name` and `*name` as `{name}`, for every form of an Express path. */
export function openApiTemplates(expressPath: string): string[] {
  return expandOptional(expressPath).map((path) =>
    path.replace(/[:*]([A-Za-z_$][A-Za-z0-9_$]*)/gu, '{$1}'),
  );
}

function walk(stack: readonly Layer[], prefix: string, served: Served): void {
  for (const layer of stack) {
    const raw = Array.isArray(layer.rawPath) ? layer.rawPath : [layer.rawPath ?? '/'];
    if (layer.route !== undefined) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const path of paths) {
        for (const method of Object.keys(layer.route.methods)) {
          for (const template of openApiTemplates(prefix + path)) {
            served.routes.push({ method: method.toUpperCase(), template, expressPath: path });
          }
        }
      }
    } else if (layer.handle?.stack !== undefined) {
      for (const path of raw)
        walk(layer.handle.stack, layer.slash === true ? prefix : prefix + path, served);
    } else if (layer.slash !== true) {
      for (const path of raw) {
        if (path !== '/' && !served.mounts.includes(prefix + path))
          served.mounts.push(prefix + path);
      }
    }
  }
}

export function servedRoutes(app: Express): Served {
  const served: Served = { routes: [], mounts: [] };
  const router = (app as unknown as { router: { stack: readonly Layer[] } }).router;
  walk(router.stack, '', served);
  return served;
}
