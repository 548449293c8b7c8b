/**
 * Limits on decision inputs and other JSON documents. Deeply nested inputs cost the policy
 * runtime's JSON reader recursion, so they are refused at the edge: a scalar has depth 0,
 * `{"a":1}` depth 1, `{"a":[1]}` depth 2. Members are counted across the whole document:
 * every array element and object member, at any depth.
 */

/** Default deepest nesting of arrays and objects accepted in an input. */
export const defaultMaxInputDepth = 64;

export interface JsonShapeLimits {
  readonly maxDepth: number;
  /** Most array elements plus object members in the whole document; no limit when absent. */
  readonly maxMembers?: number;
}

/**
 * The first limit `value` breaks, or undefined when it keeps both (iterative: never recurses
 * on the input, so a hostile document cannot overflow the stack).
 */
export function exceededJsonLimit(
  value: unknown,
  limits: JsonShapeLimits,
): 'depth' | 'members' | undefined {
  const maxMembers = limits.maxMembers ?? Infinity;
  let members = 0;
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { node, depth } = item;
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > limits.maxDepth) return 'depth';
    const children = Array.isArray(node) ? (node as unknown[]) : Object.values(node);
    members += children.length;
    if (members > maxMembers) return 'members';
    for (const child of children) {
      if (typeof child === 'object' && child !== null)
        stack.push({ node: child, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Whether `value` nests deeper than `max`. */
export function exceedsDepth(value: unknown, max: number): boolean {
  return exceededJsonLimit(value, { maxDepth: max }) === 'depth';
}
