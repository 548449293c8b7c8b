// The error state of an evaluation. A builtin that fails records its error here and returns 0
// (undefined); the generated code reads vd_error_code() where the error matters (type errors
// always, builtin errors in strict mode) and clears it otherwise. Messages are OPA's wording,
// `<builtin>: <detail>`, kept in a static buffer so recording an error never allocates.

/** No error. */
export const ERR_NONE: i32 = 0;
/** `eval_type_error`: an operand of the wrong type. */
export const ERR_TYPE: i32 = 1;
/** `eval_builtin_error`: a builtin failed (division by zero, bad number string, ...). */
export const ERR_BUILTIN: i32 = 2;
/** `eval_conflict_error`: two different values for one key or complete rule. */
export const ERR_CONFLICT: i32 = 3;
/** `eval_internal_error`. */
export const ERR_INTERNAL: i32 = 4;

const MESSAGE_CAPACITY: u32 = 1023;
const MESSAGE = memory.data(1024);

let errorCode: i32 = 0;
let messageLength: u32 = 0;

export function vd_error_code(): i32 {
  return errorCode;
}

/** The message as NUL-terminated UTF-8 text (empty when there is no error). */
export function vd_error_message(): i32 {
  store<u8>(MESSAGE + messageLength, 0);
  return <i32>MESSAGE;
}

export function vd_error_clear(): void {
  errorCode = ERR_NONE;
  messageLength = 0;
}

/** Records an error with a message copied from memory (for the generated code). */
export function vd_error_set(code: i32, ptr: i32, len: i32): void {
  errorBegin(code);
  errorBytes(<usize>ptr, <u32>len);
}

// ---------------------------------------------------------------------------------------------
// Building a message piece by piece (text beyond the buffer is cut off).

export function errorBegin(code: i32): void {
  errorCode = code;
  messageLength = 0;
}

export function errorByte(b: u32): void {
  if (messageLength < MESSAGE_CAPACITY) {
    store<u8>(MESSAGE + messageLength, <u8>b);
    messageLength++;
  }
}

export function errorBytes(ptr: usize, len: u32): void {
  for (let i: u32 = 0; i < len; i++) errorByte(load<u8>(ptr + i));
}

/** An ASCII string literal. */
export function errorText(s: string): void {
  const base = changetype<usize>(s);
  const n = s.length;
  for (let i = 0; i < n; i++) errorByte(load<u16>(base + ((<usize>i) << 1)));
}

export function errorInt(n: i64): void {
  if (n < 0) {
    errorByte(0x2d);
    // -(i64.MIN) overflows: print its digits from the unsigned value.
    errorUnsigned(<u64>-(n + 1) + 1);
  } else {
    errorUnsigned(<u64>n);
  }
}

function errorUnsigned(n: u64): void {
  if (n >= 10) errorUnsigned(n / 10);
  errorByte(<u32>(n % 10) + 0x30);
}

/** Starts `<builtin>: ` with the given code. */
export function builtinErrorBegin(code: i32, name: string): void {
  errorBegin(code);
  errorText(name);
  errorText(': ');
}

/** A whole `<builtin>: <detail>` builtin error. */
export function builtinError(name: string, detail: string): void {
  builtinErrorBegin(ERR_BUILTIN, name);
  errorText(detail);
}

/**
 * Puts NUL-terminated text in front of the current message (the generated code adds where the
 * call was written and the error's code before it aborts in strict mode).
 */
export function vd_error_prefix(text: i32): void {
  let n: u32 = 0;
  while (load<u8>(<usize>text + n) != 0) n++;
  if (n > MESSAGE_CAPACITY) n = MESSAGE_CAPACITY;
  const keep = messageLength + n > MESSAGE_CAPACITY ? MESSAGE_CAPACITY - n : messageLength;
  memory.copy(MESSAGE + n, MESSAGE, keep);
  memory.copy(MESSAGE, <usize>text, n);
  messageLength = keep + n;
}
