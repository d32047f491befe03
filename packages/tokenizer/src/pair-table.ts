/**
 * An open-addressing hash table from a pair of token ids to a merge (its rank and the id it makes).
 * Pairs of 50k-token vocabularies do not fit in a small integer key, and V8's Map slows down on
 * heap-number keys, so the table keeps both ids in Int32Arrays and probes linearly.
 */
export class PairTable {
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly rank: Int32Array;
  private readonly made: Int32Array;
  private readonly mask: number;
  size = 0;

  constructor(expectedPairs: number) {
    let capacity = 16;
    while (capacity < expectedPairs * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.left = new Int32Array(capacity).fill(-1);
    this.right = new Int32Array(capacity);
    this.rank = new Int32Array(capacity);
    this.made = new Int32Array(capacity);
  }

  private slotOf(a: number, b: number): number {
    let slot = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) & this.mask;
    while (true) {
      const key = this.left[slot]!;
      if (key === -1 || (key === a && this.right[slot] === b)) return slot;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Sets (or overwrites, as a later duplicate merge does in the Rust library) the merge of (a, b). */
  set(a: number, b: number, rank: number, made: number): void {
    if ((this.size + 1) * 2 > this.mask + 1) throw new Error('PairTable is full');
    const slot = this.slotOf(a, b);
    if (this.left[slot] === -1) this.size++;
    this.left[slot] = a;
    this.right[slot] = b;
    this.rank[slot] = rank;
    this.made[slot] = made;
  }

  /** The id that merging (a, b) makes, or -1 if there is no such merge. */
  madeOf(a: number, b: number): number {
    const slot = this.slotOf(a, b);
    return this.left[slot] === -1 ? -1 : this.made[slot]!;
  }

  /** Rank and made id at once: returns the slot, or -1; read them with slotRank/slotMade. */
  find(a: number, b: number): number {
    const slot = this.slotOf(a, b);
    return this.left[slot] === -1 ? -1 : slot;
  }

  slotRank(slot: number): number {
    return this.rank[slot]!;
  }

  slotMade(slot: number): number {
    return this.made[slot]!;
  }
}
