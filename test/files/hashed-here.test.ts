import { describe, expect, it } from 'vitest';
import { forgetHashed, hashedHere, rememberHashed } from '../../src/files/hashed-here.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('bytes hashed by this process', () => {
  it('vouches only for the very view registered: same memory, offset, length and digest', () => {
    const buf = Buffer.allocUnsafeSlow(1024).fill(1);
    rememberHashed(buf.subarray(512, 612), A);
    expect(hashedHere(buf.subarray(512, 612), A)).toBe(true);
    // A view made another way onto the same bytes (as a stream hands them on) counts too.
    expect(hashedHere(new Uint8Array(buf.buffer, buf.byteOffset + 512, 100), A)).toBe(true);
    expect(hashedHere(buf.subarray(512, 612), B)).toBe(false);
    expect(hashedHere(buf.subarray(512, 611), A)).toBe(false);
    expect(hashedHere(buf.subarray(513, 613), A)).toBe(false);
    // The same bytes copied (a pack entry the parser had to join, anything from a socket): not vouched for.
    expect(hashedHere(Buffer.from(buf.subarray(512, 612)), A)).toBe(false);
  });

  it('forgets a buffer once its upload is over', () => {
    const buf = Buffer.allocUnsafeSlow(100);
    rememberHashed(buf, A);
    forgetHashed(buf.buffer);
    expect(hashedHere(buf, A)).toBe(false);
  });
});
