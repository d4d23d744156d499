// One timer for every hold: a min-heap of due times, armed for the earliest only.
interface Entry<T> {
  at: number;
  item: T;
}

export class ExpiryHeap<T> {
  private readonly heap: Entry<T>[] = [];
  /** Where each item sits in the heap, so an ended hold leaves at once (no dead entries). */
  private readonly position = new Map<T, number>();
  private timer: NodeJS.Timeout | null = null;
  private armedAt = Number.POSITIVE_INFINITY;
  private stopped = false;

  /** `onDue` gets the clock reading that found the item due (>= its `at`). */
  constructor(private readonly onDue: (item: T, now: number) => void) {}

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `item` at `at`; an item already in the heap moves there (one entry per item, or fire() would loop). */
  add(at: number, item: T): void {
    this.remove(item);
    this.heap.push({ at, item });
    this.position.set(item, this.heap.length - 1);
    this.up(this.heap.length - 1);
    if (at < this.armedAt) this.arm();
  }

  remove(item: T): void {
    const index = this.position.get(item);
    if (index === undefined) return;
    this.position.delete(item);
    const last = this.heap.pop()!;
    if (index < this.heap.length) {
      this.heap[index] = last;
      this.position.set(last.item, index);
      this.up(index);
      this.down(this.position.get(last.item)!);
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const next = this.heap[0];
    this.timer = null;
    this.armedAt = next?.at ?? Number.POSITIVE_INFINITY;
    if (!next) return;
    // setTimeout takes at most ~24.8 days; a longer wait simply re-arms when it fires.
    this.timer = setTimeout(() => this.fire(), Math.min(Math.max(0, next.at - Date.now()), 2 ** 31 - 1));
  }

  private fire(): void {
    const now = Date.now();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const { item } = this.heap[0]!;
      this.remove(item);
      this.onDue(item, now);
    }
    this.arm();
  }

  private swap(a: number, b: number): void {
    const heap = this.heap;
    [heap[a], heap[b]] = [heap[b]!, heap[a]!];
    this.position.set(heap[a]!.item, a);
    this.position.set(heap[b]!.item, b);
  }

  private up(index: number): void {
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.heap[parent]!.at <= this.heap[index]!.at) return;
      this.swap(index, parent);
      index = parent;
    }
  }

  private down(index: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && heap[left]!.at < heap[smallest]!.at) smallest = left;
      if (right < heap.length && heap[right]!.at < heap[smallest]!.at) smallest = right;
      if (smallest === index) return;
      this.swap(index, smallest);
      index = smallest;
    }
  }
}
