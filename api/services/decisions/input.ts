/**
 * Limits on decision inputs. Deeply nested inputs cost the policy runtime's JSON reader
 * recursion, so they are refused at the edge: a scalar has depth 0, `{"a":1}` depth 1,
 * `{"a":[1]}` depth 2.
 */

/** Default deepest nesting of arrays and objects accepted in an input. */
export const defaultMaxInputDepth = 64;

/** Whether `value` nests deeper than `max` (iterative: never recurses on the input). */
export function exceedsDepth(value: unknown, max: number): boolean {
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, depth } = item;
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > max) return true;
    const children = Array.isArray(node) ? (node as unknown[]) : Object.values(node);
    for (const child of children) {
      if (typeof child === 'object' && child !== null)
        stack.push({ node: child, depth: depth + 1 });
    }
  }
  return false;
}
