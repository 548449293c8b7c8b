import { isCaslRequest, requestProblems } from '../../../../policies/casl';

describe('CASL request shape', () => {
  it('accepts a full request and a minimal one', () => {
    const full = {
      user: { id: 1 },
      action: 'read',
      subject: 'Post',
      resource: { a: 1 },
      field: 'title',
    };
    expect(requestProblems(full)).toEqual([]);
    expect(isCaslRequest({ action: 'read', subject: 'Post' })).toBe(true);
  });

  it('names each problem', () => {
    expect(requestProblems({ action: 1, resource: [], extra: true })).toEqual([
      "/: must have required property 'subject'",
      '/extra: unknown property; a CASL request has user, action, subject, resource and field',
      '/action: must be string',
      '/resource: must be object',
    ]);
    expect(requestProblems('read')).toEqual(['/: must be object']);
  });
});
