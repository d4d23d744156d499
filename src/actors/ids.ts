// Id sequences handed out in memory, so a decision knows its ids before the commit.
export class IdSequence {
  constructor(private last: number) {}

  next(): number {
    this.last += 1;
    return this.last;
  }
}
