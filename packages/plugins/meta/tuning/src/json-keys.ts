// SPDX-License-Identifier: Apache-2.0

// JSON.parse keeps the last of duplicated keys silently; upstream refuses duplicated sysctl keys
// (two writes of one sysctl with different values), so the raw bytes are scanned for them.

class Scanner {
  at = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    while (this.at < this.text.length && ' \t\r\n'.includes(this.text[this.at]!)) this.at++;
  }

  string(): string {
    const start = this.at;
    this.at++;
    while (this.at < this.text.length && this.text[this.at] !== '"') this.at += this.text[this.at] === '\\' ? 2 : 1;
    this.at++;
    return JSON.parse(this.text.slice(start, this.at)) as string;
  }

  /** Skips any value; for an object, calls `onKeys` with its keys when `path` is wanted. */
  value(path: string, wanted: ReadonlySet<string>, found: Map<string, string[]>): void {
    this.skipSpace();
    const c = this.text[this.at];
    if (c === '"') {
      this.string();
    } else if (c === '{') {
      this.at++;
      const keys: string[] = [];
      for (;;) {
        this.skipSpace();
        if (this.text[this.at] === '}') break;
        const key = this.string();
        keys.push(key);
        this.skipSpace();
        this.at++; // ':'
        this.value(path === '' ? key : `${path}.${key}`, wanted, found);
        this.skipSpace();
        if (this.text[this.at] === ',') this.at++;
        else break;
      }
      this.at++;
      if (wanted.has(path)) found.set(path, keys);
    } else if (c === '[') {
      this.at++;
      for (;;) {
        this.skipSpace();
        if (this.text[this.at] === ']') break;
        this.value(`${path}[]`, wanted, found);
        this.skipSpace();
        if (this.text[this.at] === ',') this.at++;
        else break;
      }
      this.at++;
    } else {
      while (this.at < this.text.length && !',}] \t\r\n'.includes(this.text[this.at]!)) this.at++;
    }
  }
}

/**
 * The keys that appear more than once in the configuration's `sysctl` object (or in
 * `args.cni.sysctl`). The bytes must already be valid JSON (skel parsed them).
 */
export function duplicateSysctlKeys(stdin: Uint8Array | string): string[] {
  const text = typeof stdin === 'string' ? stdin : Buffer.from(stdin.buffer, stdin.byteOffset, stdin.byteLength).toString('utf8');
  const found = new Map<string, string[]>();
  new Scanner(text).value('', new Set(['sysctl', 'args.cni.sysctl']), found);
  const duplicated = new Set<string>();
  for (const keys of found.values()) {
    const seen = new Set<string>();
    for (const key of keys) {
      if (seen.has(key)) duplicated.add(key);
      seen.add(key);
    }
  }
  return [...duplicated];
}
