/**
 * `jose` is an ES module only; the service is compiled to CommonJS, so it is loaded once,
 * lazily, with a dynamic import (as policies/wasm/codegen.ts loads binaryen).
 */
import type * as Jose from 'jose' with { 'resolution-mode': 'import' };

export type { Jose };
export type { JWK, JWTPayload } from 'jose' with { 'resolution-mode': 'import' };

let joseModule: Promise<typeof Jose> | undefined;

export function loadJose(): Promise<typeof Jose> {
  joseModule ??= import('jose');
  return joseModule;
}
