import { call, context, failure, show } from './call';

describe('uuid.rfc4122', () => {
  it('gives a version 4 UUID, the same for the same key within one query', () => {
    const ctx = context();
    const a = call('uuid.rfc4122', ['k'], ctx);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(call('uuid.rfc4122', ['k'], ctx)).toBe(a);
    expect(call('uuid.rfc4122', ['other'], ctx)).not.toBe(a);
    expect(call('uuid.rfc4122', ['k'], context())).not.toBe(a);
  });
});

describe('uuid.parse', () => {
  it('reads version and variant of any UUID form', () => {
    for (const id of [
      '00000000-0000-4000-8000-000000000000',
      '{00000000-0000-4000-8000-000000000000}',
      'urn:uuid:00000000-0000-4000-8000-000000000000',
      '00000000000040008000000000000000',
    ]) {
      expect(show('uuid.parse', id)).toBe('{"variant": "RFC4122", "version": 4}');
    }
    expect(show('uuid.parse', '6bea8ef2d3d33cd184e09bab06a52ece')).toBe(
      '{"variant": "RFC4122", "version": 3}',
    );
  });

  it('decodes time, clock sequence, node and DCE fields of versions 1 and 2', () => {
    expect(show('uuid.parse', '000003e8-48b9-21ee-b200-325096b39f47')).toBe(
      '{"clocksequence": 12800, "domain": "Person", "id": 1000, "macvariables": "local:unicast", "nodeid": "32-50-96-b3-9f-47", "time": 1693566990121469600, "variant": "RFC4122", "version": 2}',
    );
  });

  it('is undefined for text that is not a UUID, a type error for non-strings', () => {
    expect(show('uuid.parse', 'not-a-uuid')).toBe('undefined');
    expect(show('uuid.parse', '00000000-0000-4000-8000-00000000000g')).toBe('undefined');
    expect(failure('uuid.parse', 123)).toBe(
      'type: uuid.parse: operand 1 must be string but got number',
    );
  });
});
