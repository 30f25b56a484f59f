import { LRUCache } from 'lru-cache';

/**
 * The UTF-8 bytes of large cached JSON answers, kept next to their text. Sent as a string, an
 * answer is encoded into a new buffer for every response: for a 20,000-seat map (about 2 MB)
 * that is 2 MB of copying per request and, with a thousand readers in flight, gigabytes of
 * buffers. Sent as the same Buffer, every response shares one copy.
 */
export class EncodedAnswers {
  private readonly entries: LRUCache<string, { text: string; bytes: Buffer }>;

  constructor(maxBytes = 64 * 1024 * 1024) {
    this.entries = new LRUCache({
      maxSize: maxBytes,
      // The text is kept too (to tell a new version from the cached one): up to 2 bytes a
      // character in V8, beside the buffer's 1 a character for ASCII JSON.
      sizeCalculation: (entry) => Math.max(1, entry.bytes.length + 2 * entry.text.length),
    });
  }

  /** The bytes of `text`, the answer for `key`; encoded again only when the text changed. */
  bytesOf(key: string, text: string): Buffer {
    const known = this.entries.get(key);
    // Usually the very string cached before (a reference comparison); after a reload, a
    // content comparison that stops at the first difference.
    if (known && known.text === text) return known.bytes;
    const bytes = Buffer.from(text, 'utf8');
    this.entries.set(key, { text, bytes });
    return bytes;
  }
}
