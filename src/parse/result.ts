// Parsing never throws on what a user wrote: it returns a value or a specific error that names
// the object, the field and what was expected.
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** A successful parse. */
export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
/** A failed parse, with a message naming the object, the field and what was expected. */
export const fail = <T = never>(error: string): Parsed<T> => ({ ok: false, error });
