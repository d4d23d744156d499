// Token buckets: a caller may spend `burst` requests at once and then `perSecond` on average.
import { LRUCache } from "lru-cache";

export interface RateLimit {
  /** Tokens added per second; 0 turns the limit off. */
  perSecond: number;
  burst: number;
}

/** One caller's budget (a WebSocket connection keeps its own). */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.updatedAt = now;
  }

  /** Spends one token; false when the caller is over its budget. */
  take(now: number): boolean {
    if (this.limit.perSecond === 0) return true;
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True when the next take() would fail (nothing is spent). */
  isSpent(now: number): boolean {
    if (this.limit.perSecond === 0) return false;
    this.refill(now);
    return this.tokens < 1;
  }

  /** True when the bucket is full again, so forgetting it changes nothing. */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.limit.burst;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.limit.burst, this.tokens + (elapsed * this.limit.perSecond) / 1000);
    this.updatedAt = now;
  }
}

/** Buckets by key (user id). Full buckets are forgotten, so memory follows recent activity. */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private sweepAt = 10_000;

  constructor(private readonly limit: RateLimit) {}

  take(key: string, now: number): boolean {
    if (this.limit.perSecond === 0) return true;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.sweepAt) this.sweep(now);
      bucket = new TokenBucket(this.limit, now);
      this.buckets.set(key, bucket);
    }
    return bucket.take(now);
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
    // Many callers active at once: sweep again only after the map has doubled.
    this.sweepAt = Math.max(10_000, this.buckets.size * 2);
  }
}

/**
 * Buckets by client address, at most `maxKeys` of them: addresses are the attacker's to choose
 * (a /64 of IPv6 holds plenty), so past the bound the least recently seen one is dropped, which
 * at worst gives that address a fresh burst.
 */
export class AddressLimiter {
  private readonly buckets: LRUCache<string, TokenBucket>;

  constructor(
    private readonly limit: RateLimit,
    maxKeys = 100_000,
  ) {
    this.buckets = new LRUCache({ max: maxKeys });
  }

  get enabled(): boolean {
    return this.limit.perSecond > 0;
  }

  take(address: string, now: number): boolean {
    if (!this.enabled) return true;
    let bucket = this.buckets.get(address);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.limit, now);
      this.buckets.set(address, bucket);
    }
    return bucket.take(now);
  }

  /** True when the address has no token left (nothing is spent; an unknown address has a full bucket). */
  isSpent(address: string, now: number): boolean {
    if (!this.enabled) return false;
    return this.buckets.get(address)?.isSpent(now) ?? false;
  }

  /** Addresses tracked (at most maxKeys). */
  get size(): number {
    return this.buckets.size;
  }
}
