import { BackendError } from '../../errors';

const PAGE = 65536;
/** Every block starts on a 16-byte boundary, so v128 loads of a tensor's start are aligned. */
export const ALIGN = 16;
/** Bytes below this stay unused: offset 0 is never a valid tensor, and a little room costs nothing. */
const RESERVED = 1024;

interface Block {
  offset: number;
  size: number;
}

const alignUp = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/**
 * Hands out 16-byte-aligned byte ranges of a WebAssembly.Memory: best fit from a free list kept
 * sorted by offset (neighbours coalesce on free), else from the top, growing the memory as needed.
 */
export class WasmAllocator {
  private readonly freeList: Block[] = [];
  private top = RESERVED;
  /** Bytes handed out and not yet released (rounded to ALIGN). */
  usedBytes = 0;
  blocks = 0;

  constructor(
    readonly memory: WebAssembly.Memory,
    private readonly maximumBytes: number,
  ) {}

  /** A block of at least `bytes` (≥ 16); returns its offset. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, alignUp(bytes));
    let best = -1;
    for (let i = 0; i < this.freeList.length; i++) {
      const b = this.freeList[i];
      if (b.size >= size && (best < 0 || b.size < this.freeList[best].size)) {
        best = i;
        if (b.size === size) break;
      }
    }
    if (best >= 0) {
      const b = this.freeList[best];
      const offset = b.offset;
      if (b.size === size) this.freeList.splice(best, 1);
      else {
        b.offset += size;
        b.size -= size;
      }
      return this.count(offset, size);
    }
    const offset = this.top;
    this.ensure(offset + size);
    this.top = offset + size;
    return this.count(offset, size);
  }

  private count(offset: number, size: number): number {
    this.usedBytes += size;
    this.blocks++;
    return offset;
  }

  /** Returns a block made by alloc(bytes). */
  release(offset: number, bytes: number): void {
    const size = Math.max(ALIGN, alignUp(bytes));
    this.usedBytes -= size;
    this.blocks--;
    // Insert sorted by offset, then merge with the neighbours it touches.
    let lo = 0;
    let hi = this.freeList.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.freeList[mid].offset < offset) lo = mid + 1;
      else hi = mid;
    }
    let block: Block = { offset, size };
    const prev = this.freeList[lo - 1];
    if (prev && prev.offset + prev.size === offset) {
      prev.size += size;
      block = prev;
      lo--;
    } else this.freeList.splice(lo, 0, block);
    const next = this.freeList[lo + 1];
    if (next && block.offset + block.size === next.offset) {
      block.size += next.size;
      this.freeList.splice(lo + 1, 1);
    }
    // A free block that ends at the top gives its bytes back to the top.
    if (block.offset + block.size === this.top) {
      this.top = block.offset;
      this.freeList.splice(lo, 1);
    }
  }

  /** Grows the memory so that bytes [0, end) exist. */
  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    if (end > this.maximumBytes) {
      throw new BackendError(
        `wasm: out of memory: ${end - have} more bytes needed but the memory may not grow beyond ${this.maximumBytes} bytes ` +
          `(${this.usedBytes} bytes in ${this.blocks} live blocks); raise maximumMemoryBytes or free tensors`,
      );
    }
    // Grow by at least half again, so that a run of allocations grows rarely.
    const wanted = Math.max(end, Math.min(this.maximumBytes, have + (have >> 1)));
    this.memory.grow(Math.ceil((wanted - have) / PAGE));
  }

  /** Free-list length and top: for tests of fragmentation and reuse. */
  stats(): { freeBlocks: number; top: number; capacity: number } {
    return { freeBlocks: this.freeList.length, top: this.top, capacity: this.memory.buffer.byteLength };
  }
}
