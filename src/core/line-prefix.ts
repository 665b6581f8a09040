/**
 * A job's prefix on every line of its output where several jobs' lines share one place
 * (`dstack logs RUN`, a run's downloaded log): `bytes` with `lead` after each newline, and
 * after each carriage return that does not end a CRLF: a progress bar redrawn with `\r`
 * (tqdm's) goes back to the start of the line, over the prefix, and must write it again.
 * As pieces (not copied), pushed onto `into`.
 */
export function prefixed(bytes: Buffer, lead: Buffer, into: Buffer[]): void {
  let start = 0;
  let nl = bytes.indexOf(0x0a);
  let cr = bytes.indexOf(0x0d);
  while (nl >= 0 || cr >= 0) {
    let at: number;
    if (cr >= 0 && (nl < 0 || cr < nl)) {
      at = cr;
      cr = bytes.indexOf(0x0d, at + 1);
      if (bytes[at + 1] === 0x0a) continue; // a CRLF's CR: its LF brings the lead
    } else {
      at = nl;
      nl = bytes.indexOf(0x0a, at + 1);
    }
    into.push(bytes.subarray(start, at + 1), lead);
    start = at + 1;
  }
  into.push(bytes.subarray(start));
}

/** Each job's prefix, `ref | ` padded to the longest ref, as `dstack logs` shows several jobs; none for one job. */
export function jobPrefixes(
  jobs: readonly { id: string; ref: string }[],
  paint: (text: string, index: number) => string = (text) => text,
): Map<string, Buffer> {
  const prefix = new Map<string, Buffer>();
  if (jobs.length > 1) {
    const width = Math.max(...jobs.map((j) => j.ref.length));
    jobs.forEach((j, i) => prefix.set(j.id, Buffer.from(paint(`${j.ref.padEnd(width)} | `, i))));
  }
  return prefix;
}
