/** ajv's draft-07 request schemas in JSON Schema 2020-12: `nullable` is the one keyword to convert. */
import { fromAjvSchema, withoutNull } from '../../../../api/schemas/json-schema';

describe('fromAjvSchema', () => {
  it('turns nullable into null among the types, at every depth', () => {
    const ajvSchema = {
      type: 'object',
      properties: {
        name: { type: 'string', nullable: true },
        tags: { type: 'array', items: { type: 'integer', nullable: true } },
        plain: { type: 'boolean' },
      },
      required: [],
    };
    expect(fromAjvSchema(ajvSchema)).toEqual({
      type: 'object',
      properties: {
        name: { type: ['string', 'null'] },
        tags: { type: 'array', items: { type: ['integer', 'null'] } },
        plain: { type: 'boolean' },
      },
      required: [],
    });
  });

  it('keeps an enum beside nullable as it is, which is what ajv enforces', () => {
    expect(fromAjvSchema({ type: 'string', enum: ['a'], nullable: true })).toEqual({
      type: ['string', 'null'],
      enum: ['a'],
    });
  });

  it('copies: the ajv schema is left as it was', () => {
    const ajvSchema = { type: 'string', nullable: true };
    const converted = fromAjvSchema(ajvSchema);
    expect(ajvSchema).toEqual({ type: 'string', nullable: true });
    expect(converted).not.toBe(ajvSchema);
  });

  it('drops nullable: false without adding null', () => {
    expect(fromAjvSchema({ type: 'string', nullable: false })).toEqual({ type: 'string' });
  });
});

describe('withoutNull', () => {
  it('takes null out of the types, to one type when one is left', () => {
    expect(withoutNull({ type: ['string', 'null'], maxLength: 3 })).toEqual({
      type: 'string',
      maxLength: 3,
    });
    expect(withoutNull({ type: ['string', 'integer', 'null'] })).toEqual({
      type: ['string', 'integer'],
    });
    const single = { type: 'string' };
    expect(withoutNull(single)).toBe(single);
  });
});
