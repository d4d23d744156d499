// Owns the order of the waiting room's line: which seq numbers are waiting, their rank, and the oldest.

/**
 * An order-statistic set of integer seq numbers.
 *
 * Why not an array: with 100,000 waiting tokens, idle leavers drop out of the middle of the
 * line and every check asks for a position; an array makes either the removal or the rank
 * O(n). A Fenwick (binary indexed) tree over a window of seq numbers makes add, remove and
 * rank O(log n); a head pointer gives the oldest for FIFO admission, and since it only moves
 * forward, skipping removed slots costs O(1) amortised.
 *
 * The window [base, base + capacity) slides and grows: when a seq falls outside it, the tree
 * is rebuilt in O(capacity) over the live span only, at least doubling the free room, so the
 * cost is amortised O(1) per add and memory follows the live span of seq numbers, not every
 * seq ever issued.
 */
export class WaitingLine {
  /** seq of slot 0 */
  private base = 0;
  /** 1 where the seq at that slot is present */
  private present: Uint8Array;
  /** Fenwick tree over `present`, 1-based: tree[i] sums present[i - (i & -i) .. i - 1] */
  private tree: Int32Array;
  /** every slot below head is absent (popOldest scans forward from here) */
  private head = 0;
  /** every slot at or above limit is absent */
  private limit = 0;
  private count = 0;

  constructor(initialCapacity = 1024) {
    const capacity = Math.max(16, initialCapacity);
    this.present = new Uint8Array(capacity);
    this.tree = new Int32Array(capacity + 1);
  }

  /** How many seq numbers are in the line. */
  get size(): number {
    return this.count;
  }

  has(seq: number): boolean {
    const slot = seq - this.base;
    return slot >= 0 && slot < this.present.length && this.present[slot] === 1;
  }

  /** Adds seq; returns false (and changes nothing) if it was already present. */
  add(seq: number): boolean {
    if (!Number.isSafeInteger(seq)) throw new RangeError(`seq must be a safe integer, got ${seq}`);
    let slot = seq - this.base;
    if (slot < 0 || slot >= this.present.length) {
      this.rebuildAround(slot);
      slot = seq - this.base;
    }
    if (this.present[slot] === 1) return false;
    this.present[slot] = 1;
    this.bump(slot, 1);
    this.count += 1;
    if (slot < this.head) this.head = slot;
    if (slot >= this.limit) this.limit = slot + 1;
    return true;
  }

  /** Removes seq; returns false if it was not present. */
  remove(seq: number): boolean {
    if (!this.has(seq)) return false;
    const slot = seq - this.base;
    this.present[slot] = 0;
    this.bump(slot, -1);
    this.count -= 1;
    if (this.count === 0) this.head = this.limit;
    return true;
  }

  /** 1-based rank of seq among the present ones (1 = oldest), 0 if absent. */
  rank(seq: number): number {
    if (!this.has(seq)) return 0;
    // Slots below base hold nothing, so the prefix sum over the window is the rank.
    let sum = 0;
    for (let i = seq - this.base + 1; i > 0; i -= i & -i) sum += this.tree[i] ?? 0;
    return sum;
  }

  /** The smallest present seq, without removing it. */
  peekOldest(): number | undefined {
    if (this.count === 0) return undefined;
    // Bounded by limit so a broken invariant cannot spin forever.
    while (this.head < this.limit && this.present[this.head] !== 1) this.head += 1;
    return this.base + this.head;
  }

  /** Removes and returns the smallest present seq (the front of the line). */
  popOldest(): number | undefined {
    const seq = this.peekOldest();
    if (seq !== undefined) this.remove(seq);
    return seq;
  }

  /** Present seq numbers, oldest first. O(span); meant for tests and snapshots, not hot paths. */
  *[Symbol.iterator](): IterableIterator<number> {
    for (let slot = this.head; slot < this.limit; slot++) {
      if (this.present[slot] === 1) yield this.base + slot;
    }
  }

  private bump(slot: number, delta: number): void {
    const tree = this.tree;
    for (let i = slot + 1; i < tree.length; i += i & -i) tree[i] = (tree[i] ?? 0) + delta;
  }

  /** Moves and/or grows the window so that `slot` (relative to the current base) fits. */
  private rebuildAround(slot: number): void {
    const low = this.count === 0 ? slot : Math.min(slot, this.head);
    const high = this.count === 0 ? slot + 1 : Math.max(slot + 1, this.limit);
    const span = high - low;
    let capacity = 16;
    while (capacity < span * 2) capacity *= 2;

    const present = new Uint8Array(capacity);
    if (this.count > 0) present.set(this.present.subarray(this.head, this.limit), this.head - low);
    this.base += low;
    this.head = this.count === 0 ? 0 : this.head - low;
    this.limit = this.count === 0 ? 0 : this.limit - low;
    this.present = present;

    // Linear-time Fenwick construction: each node pushes its sum to its parent once.
    const tree = new Int32Array(capacity + 1);
    for (let i = 1; i <= capacity; i++) {
      tree[i] = (tree[i] ?? 0) + (present[i - 1] ?? 0);
      const parent = i + (i & -i);
      if (parent <= capacity) tree[parent] = (tree[parent] ?? 0) + (tree[i] ?? 0);
    }
    this.tree = tree;
  }
}
