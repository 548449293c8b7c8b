/**
 * A CASL rule set after validation: every condition parsed into one operator on one field path,
 * in the shapes `@casl/ability`'s `createMongoAbility` accepts. Produced by `validate.ts`,
 * consumed by `lower.ts`.
 */
export type Scalar = string | number | boolean | null;

/** A value written in the rule, or `"${user.a.b}"`: a value read from the request's principal. */
export type Operand =
  | { readonly kind: 'const'; readonly value: Scalar }
  | { readonly kind: 'template'; readonly path: readonly string[] };

/** A field path split on dots (`author.id` → `["author", "id"]`). */
export type FieldPath = readonly string[];

/**
 * One condition on a resource field, as validation normalises CASL's MongoDB-style query
 * operators (`$eq`, `$in`, `$regex`, `$elemMatch` ...).
 */
export type Condition =
  | { readonly op: 'eq' | 'ne'; readonly path: FieldPath; readonly value: Operand }
  | {
      readonly op: 'lt' | 'lte' | 'gt' | 'gte';
      readonly path: FieldPath;
      readonly value: string | number;
    }
  | { readonly op: 'in' | 'nin'; readonly path: FieldPath; readonly values: readonly Operand[] }
  | { readonly op: 'all'; readonly path: FieldPath; readonly values: readonly Scalar[] }
  | { readonly op: 'exists'; readonly path: FieldPath; readonly value: boolean }
  | { readonly op: 'size'; readonly path: FieldPath; readonly value: number }
  | {
      readonly op: 'regex';
      readonly path: FieldPath;
      readonly pattern: string;
      readonly flags: string;
    }
  | {
      readonly op: 'elemMatch';
      readonly path: FieldPath;
      readonly conditions: readonly Condition[];
    };

/** One rule of a rule set, validated and normalised: what `lowerRuleSet` compiles. */
export interface CaslRule {
  /** Position in the rule set; later rules win. */
  readonly index: number;
  /** Actions; `manage` matches any action. */
  readonly actions: readonly string[];
  /** Subject types; `all` matches any subject type. */
  readonly subjects: readonly string[];
  /** Fields the rule is restricted to; absent means all fields. */
  readonly fields?: readonly string[];
  /** Conditions (all must hold); absent when the rule has none. `[]` is CASL's `{}`. */
  readonly conditions?: readonly Condition[];
  readonly inverted: boolean;
  readonly reason?: string;
  /** Set when the rule belongs to a role of the rule set's role mapping. */
  readonly role?: string;
  /** The rule as written (a CASL raw rule), for handing it to front ends. */
  readonly source: Readonly<Record<string, unknown>>;
}

export const ANY_ACTION = 'manage';
export const ANY_SUBJECT = 'all';
