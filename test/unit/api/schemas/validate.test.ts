import { VerdictError } from '../../../../api/errors';
import { bodyValidator, fieldProblem, unstorableTextAt } from '../../../../api/schemas/validate';

interface Sample {
  name: string;
  tags: ('a' | 'b')[];
  nested?: { count: number };
}

const validate = bodyValidator<Sample>({
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    tags: { type: 'array', items: { type: 'string', enum: ['a', 'b'] } },
    nested: {
      type: 'object',
      properties: { count: { type: 'integer', minimum: 0 } },
      required: ['count'],
      additionalProperties: false,
      nullable: true,
    },
  },
  required: ['name', 'tags'],
  additionalProperties: false,
});

function problemOf(body: unknown): VerdictError {
  try {
    validate(body);
  } catch (err) {
    if (err instanceof VerdictError) return err;
    throw err;
  }
  throw new Error('expected the body to be refused');
}

describe('bodyValidator', () => {
  it('returns a body that fits, unchanged', () => {
    const body = { name: 'x', tags: ['a'], nested: { count: 2 } };
    expect(validate(body)).toBe(body);
  });

  it('names every bad field by JSON pointer, with a readable message', () => {
    const problem = problemOf({ tags: ['c'], nested: { count: -1, extra: true }, other: 1 });
    expect(problem.code).toBe('bad_request');
    expect(problem.extensions.errors).toEqual([
      { field: '/name', message: 'is required' },
      { field: '/other', message: 'is not a known property' },
      { field: '/tags/0', message: 'must be one of a, b' },
      { field: '/nested/extra', message: 'is not a known property' },
      { field: '/nested/count', message: 'must be >= 0' },
    ]);
    expect(problem.extensions.field).toBe('/name');
    expect(problem.detail).toBe(
      'Invalid request body: /name is required; /other is not a known property; /tags/0 must be one of a, b; /nested/extra is not a known property; /nested/count must be >= 0.',
    );
  });

  it('speaks of the body as a whole when it is not an object', () => {
    const problem = problemOf([1]);
    expect(problem.extensions.field).toBe('');
    expect(problem.detail).toBe('Invalid request body: body must be object.');
  });
});

describe('fieldProblem', () => {
  it('has the shape of a schema failure', () => {
    const problem = fieldProblem('/expires_in', 'must be at most 3650d');
    expect(problem.status).toBe(400);
    expect(problem.extensions).toEqual({
      field: '/expires_in',
      errors: [{ field: '/expires_in', message: 'must be at most 3650d' }],
    });
    expect(problem.detail).toBe('Invalid request body: /expires_in must be at most 3650d.');
  });
});

describe('text Postgres cannot store', () => {
  it('points at the first string or member name with NUL or a lone surrogate half', () => {
    expect(unstorableTextAt({ a: ['ok', '😀'], b: { c: 'fine' } })).toBeUndefined();
    expect(unstorableTextAt({ a: ['ok', 'x\u0000'] })).toBe('/a/1');
    expect(unstorableTextAt({ 'a/b~': { c: '\uD800' } })).toBe('/a~1b~0/c');
    expect(unstorableTextAt({ ['k\uDC00']: 1 })).toBe('/k\uDC00');
    expect(unstorableTextAt('\u0000')).toBe('');
  });

  it('refuses a body that fits the schema but holds such text, naming the field only', () => {
    let caught: unknown;
    try {
      validate({ name: 'secret\u0000value', tags: [] });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(VerdictError);
    const problem = caught as VerdictError;
    expect(problem.extensions.field).toBe('/name');
    expect(problem.detail).toBe(
      'Invalid request body: /name must be text without NUL characters or unpaired surrogates.',
    );
    expect(problem.detail).not.toContain('secret');
  });
});
