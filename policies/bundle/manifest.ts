/**
 * The bundle manifest: OPA's keys (`revision`, `roots`, `wasm`, `metadata`) plus Verdict's
 * (`name`, `version`, `engine`, `entrypoints`). A bundle's source folder may hold a `.manifest`
 * with the author's part; the build adds the revision and the wasm list.
 */
import Ajv from 'ajv';

/** The author's `.manifest` in a bundle's source folder: every key optional. */
export interface ManifestSource {
  readonly name?: string;
  readonly version?: string;
  readonly roots?: readonly string[];
  readonly engine?: 'rego' | 'casl';
  readonly entrypoints?: readonly string[];
  readonly metadata?: Readonly<Record<string, unknown>>;
  /**
   * Decision-log masking: JSON pointers under `/input` (`/input/password`) removed from the
   * input before a decision is written to the audit log, as OPA's decision-log masks do.
   */
  readonly mask?: readonly string[];
  /** Decision cache for this bundle: `auto` (measured per bundle), `on` or `off`. */
  readonly cache?: 'auto' | 'on' | 'off';
}

/** Semantic Versioning 2.0.0 (https://semver.org), without a leading `v`. */
export const SEMVER =
  '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$';

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,127}$' },
    version: { type: 'string', pattern: SEMVER },
    revision: { type: 'string' },
    roots: { type: 'array', items: { type: 'string' } },
    engine: { enum: ['rego', 'casl'] },
    entrypoints: {
      type: 'array',
      items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$' },
    },
    metadata: { type: 'object' },
    mask: { type: 'array', items: { type: 'string', pattern: '^/input(/.*)?$' } },
    cache: { enum: ['auto', 'on', 'off'] },
    wasm: { type: 'array' },
  },
} as const;

const ajv = new Ajv({ allErrors: true });
const validate = ajv.compile(schema);

/** Checks a parsed `.manifest`; each problem is one line naming the field. */
export function checkManifest(value: unknown): { manifest?: ManifestSource; problems: string[] } {
  if (validate(value)) return { manifest: value as ManifestSource, problems: [] };
  const problems = (validate.errors ?? []).map((e) => {
    const field = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : 'the manifest';
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty?: string }).additionalProperty ?? '?';
      return `${extra}: unknown manifest field (known: name, version, roots, engine, entrypoints, metadata, mask, cache)`;
    }
    if (e.keyword === 'pattern' && field === 'version')
      return 'version: not a semantic version (like 1.2.3 or 2.0.0-rc.1)';
    if (e.keyword === 'pattern' && field === 'name')
      return 'name: lower-case letters, digits, ".", "_" and "-" only';
    if (e.keyword === 'pattern' && field.startsWith('entrypoints')) {
      return `${field}: an entrypoint is a rule path written pkg/rule (like rbac/allow)`;
    }
    if (e.keyword === 'pattern' && field.startsWith('mask'))
      return `${field}: a mask is a JSON pointer into the input, like /input/password`;
    if (e.keyword === 'enum' && field === 'cache') return 'cache: must be "auto", "on" or "off"';
    if (e.keyword === 'enum') return `${field}: must be "rego" or "casl"`;
    return `${field}: ${e.message ?? 'is invalid'}`;
  });
  return { problems };
}

/** Parses and checks `.manifest` text. */
export function parseManifest(text: string): { manifest?: ManifestSource; problems: string[] } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problems: [`not JSON: ${err instanceof Error ? err.message : String(err)}`] };
  }
  return checkManifest(value);
}
