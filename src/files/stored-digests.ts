/**
 * Digests a runner has seen the server store (it uploaded them, or an upload plan said they
 * were there): a re-save does not ask about them again. Only a shortcut: the server checks
 * every blob of a manifest before it accepts it, and a runner whose manifest is refused for
 * a missing blob (deleted since: `dstack prune`, by hand) forgets these and asks about all.
 */
export class StoredDigests {
  private readonly digests = new Set<string>();

  /** `maxEntries`: the oldest are forgotten past this (about 120 bytes each). */
  constructor(private readonly maxEntries = 500_000) {}

  has(digest: string): boolean {
    return this.digests.has(digest);
  }

  add(digest: string): void {
    this.digests.delete(digest); // re-inserted last: the set's order is the order of use
    this.digests.add(digest);
    if (this.digests.size > this.maxEntries) this.digests.delete(this.digests.values().next().value!);
  }

  clear(): void {
    this.digests.clear();
  }

  get size(): number {
    return this.digests.size;
  }
}
