/** "Did you mean ...?": the candidate a misspelt word (a key, a variable, a workflow) was meant to be. */

/** Edit distance (insertions, deletions, substitutions; a swap of two neighbours counts once). */
export function distance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      // Transposed letters (`comamnds`) are one typo, not two.
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      row[j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The candidate closest to `word`, or undefined when none is close enough to be a typo
 * of it (at most a third of its letters wrong, and at least 1 allowed). Ties go to the
 * earlier candidate, so list the common ones first.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    // `depends_on` and `Commands` are the same mistake as a typo: compare loosely first.
    const d = normalize(lower) === normalize(candidate) ? 0.5 : distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

function normalize(key: string): string {
  return key.toLowerCase().replace(/[-_ ]/g, '');
}

/** `; did you mean 'x'?` to append to a message, or '' when no candidate is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const near = closest(word, candidates);
  return near === undefined ? '' : `; did you mean '${near}'?`;
}
