// The heap: a bump allocator over the imported memory. Nothing is ever freed one by one; the SDK
// resets the whole heap between evaluations with opa_heap_ptr_set. The runtime never uses
// AssemblyScript's managed objects (no `new`, no string building), so this is the only
// allocator in the module.
import { opa_abort } from './env';

const ALIGN_MASK: usize = 7;
/** Larger requests cannot be met in a 32-bit memory (and protect the pointer arithmetic). */
const MAX_REQUEST: usize = 0x7fff0000;

/** Next free byte; 0 until the first use (so the module needs no start function). */
let heapTop: usize = 0;

const OOM_MESSAGE = memory.data<u8>([
  0x6f, 0x75, 0x74, 0x20, 0x6f, 0x66, 0x20, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0,
]); // "out of memory"

function top(): usize {
  if (heapTop == 0) heapTop = (__heap_base + ALIGN_MASK) & ~ALIGN_MASK;
  return heapTop;
}

export function outOfMemory(): void {
  opa_abort(<i32>OOM_MESSAGE);
  unreachable();
}

/** Grows the memory so that addresses below `end` are usable. */
export function ensureMemory(end: usize): void {
  const have = (<usize>memory.size()) << 16;
  if (end <= have) return;
  const needed = <i32>((end - have + 0xffff) >>> 16);
  // Grow a little ahead to avoid one grow per page, but stay small: thousands of instances.
  const pages = needed < 4 ? 4 : needed;
  if (memory.grow(pages) < 0 && memory.grow(needed) < 0) outOfMemory();
}

/** `n` bytes, 8-aligned, uninitialised. */
export function alloc(n: usize): usize {
  if (n > MAX_REQUEST) outOfMemory();
  const p = top();
  const end = (p + n + ALIGN_MASK) & ~ALIGN_MASK;
  if (end < p) outOfMemory();
  ensureMemory(end);
  heapTop = end;
  return p;
}

/** `n` zeroed bytes (the heap is reused after a reset, so fresh memory is not zero). */
export function allocZeroed(n: usize): usize {
  const p = alloc(n);
  memory.fill(p, 0, n);
  return p;
}

/** Whether `p .. p+n` is the most recent allocation, so it can grow in place. */
export function isLast(p: usize, n: usize): bool {
  return ((p + n + ALIGN_MASK) & ~ALIGN_MASK) == heapTop;
}

/** Grows the allocation at `p` (of `oldSize` bytes) to `newSize`, moving it if needed. */
export function grow(p: usize, oldSize: usize, newSize: usize): usize {
  if (p != 0 && isLast(p, oldSize)) {
    const end = (p + newSize + ALIGN_MASK) & ~ALIGN_MASK;
    if (newSize > MAX_REQUEST || end < p) outOfMemory();
    ensureMemory(end);
    heapTop = end;
    return p;
  }
  const q = alloc(newSize);
  if (oldSize > 0) memory.copy(q, p, oldSize);
  return q;
}

export function opa_malloc(n: i32): i32 {
  return <i32>alloc(<usize>(<u32>n));
}

/** Memory is reclaimed only by resetting the heap, as the SDK does between evaluations. */
export function opa_free(_p: i32): void {}

export function opa_heap_ptr_get(): i32 {
  return <i32>top();
}

export function opa_heap_ptr_set(p: i32): void {
  heapTop = (<usize>(<u32>p) + ALIGN_MASK) & ~ALIGN_MASK;
}

// ---------------------------------------------------------------------------------------------
// The writer: text produced at the top of the heap, growing in place (JSON dumps, built strings).
// Nothing else may allocate between writerBegin and writerEnd.

let wStart: usize = 0;
let wPos: usize = 0;
let wLimit: usize = 0;

export function writerBegin(): void {
  wStart = top();
  wPos = wStart;
  wLimit = (<usize>memory.size()) << 16;
}

/** Makes room for `n` more bytes and returns where they go. */
export function writerReserve(n: usize): usize {
  if (wPos + n > wLimit) {
    if (n > MAX_REQUEST || wPos + n < wPos) outOfMemory();
    ensureMemory(wPos + n);
    wLimit = (<usize>memory.size()) << 16;
  }
  const p = wPos;
  wPos += n;
  return p;
}

export function writeByte(b: u32): void {
  if (wPos >= wLimit) {
    ensureMemory(wPos + 1);
    wLimit = (<usize>memory.size()) << 16;
  }
  store<u8>(wPos, <u8>b);
  wPos++;
}

export function writeBytes(src: usize, n: usize): void {
  const p = writerReserve(n);
  memory.copy(p, src, n);
}

/** An ASCII string literal. */
export function writeAscii(s: string): void {
  const n = <usize>s.length;
  const p = writerReserve(n);
  const base = changetype<usize>(s);
  for (let i: usize = 0; i < n; i++) store<u8>(p + i, load<u16>(base + (i << 1)));
}

export function writerLength(): usize {
  return wPos - wStart;
}

export function writerStart(): usize {
  return wStart;
}

/** Drops the last `n` bytes written. */
export function writerUnwrite(n: usize): void {
  wPos -= n;
}

/** Ends the text and claims its bytes; returns its address. */
export function writerEnd(): usize {
  heapTop = (wPos + ALIGN_MASK) & ~ALIGN_MASK;
  ensureMemory(heapTop);
  return wStart;
}
