/**
 * What an erased user's row keeps in place of an e-mail address: a name made from the row's
 * id (already the only name the audit chains use for the user), in the reserved `.invalid`
 * domain so that nothing can ever be sent to it. It is stored encrypted with its blind index
 * like any address, so re-encryption and start-up sealing treat the row like every other.
 */
const erasedDomain = 'erased.invalid';

export function erasedEmail(userId: string): string {
  return `erased-user-${userId}@${erasedDomain}`;
}

export function isErasedEmail(email: string): boolean {
  return email.endsWith(`@${erasedDomain}`);
}
