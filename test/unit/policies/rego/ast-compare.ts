/**
 * Makes Rego ASTs comparable across a format round trip: drops positions (`loc`, `end`,
 * `file`) and numbers of wildcards (`$_3` → `_`), which legitimately change when the same
 * program is printed and parsed again.
 */
export function comparable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(comparable);
  if (node !== null && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key !== 'loc' && key !== 'end' && key !== 'file') out[key] = comparable(value);
    }
    return out;
  }
  if (typeof node === 'string' && /^\$_\d+$/.test(node)) return '_';
  return node;
}
