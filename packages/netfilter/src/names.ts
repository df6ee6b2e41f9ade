// SPDX-License-Identifier: Apache-2.0
import { createHash } from 'node:crypto';

/** iptables chain names are at most 28 characters; upstream fills them to exactly that. */
const MAX_CHAIN_LENGTH = 28;
const CHAIN_PREFIX = 'CNI-';
/** Length of a hex SHA-512 digest, the most a hashed name can hold. */
const MAX_HASH_LENGTH = 128;

/**
 * `prefix` followed by the hex SHA-512 of `toHash`, cut to `length` characters
 * (upstream's `MustFormatHashWithPrefix`). Throws when the prefix leaves no room for the hash.
 */
export function formatHashWithPrefix(length: number, prefix: string, toHash: string): string {
  if (prefix.length >= length || length > MAX_HASH_LENGTH) {
    throw new RangeError(`invalid hash length ${length} for prefix ${JSON.stringify(prefix)}`);
  }
  return (prefix + createHash('sha512').update(toHash, 'utf8').digest('hex')).slice(0, length);
}

/**
 * The per-container chain name `CNI-<hash(name + id)>`, 28 characters, that the bridge and
 * ptp masquerade rules use (upstream's `FormatChainName`).
 *
 * @example
 * ```ts
 * formatChainName('mynet', 'ctr-abc123'); // 'CNI-b35254af8ad75f5ce3aedbb9'
 * ```
 */
export function formatChainName(name: string, id: string): string {
  return formatChainNameWithPrefix(name, id, '');
}

/**
 * Like {@link formatChainName} with `prefix` between `CNI-` and the hash, as portmap's
 * `CNI-DN-` chains (upstream's `MustFormatChainNameWithPrefix`).
 */
export function formatChainNameWithPrefix(name: string, id: string, prefix: string): string {
  return formatHashWithPrefix(MAX_CHAIN_LENGTH, CHAIN_PREFIX + prefix, name + id);
}

/**
 * The rule comment `name: "<name>" id: "<id>"` of the iptables masquerade rules, both values
 * quoted the way Go's `%q` does (upstream's `FormatComment`).
 */
export function formatComment(name: string, id: string): string {
  return `name: ${goQuote(name)} id: ${goQuote(id)}`;
}

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/**
 * A string as Go's `strconv.Quote` writes it, so that comments match the ones upstream's
 * plugins wrote and their rules can be found and deleted by either implementation.
 */
export function goQuote(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0)!;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (code >= 0x20 && code < 0x7f) out += char;
    else if (code < 0x80 || !printable.test(char)) out += escapeCode(code);
    else out += char;
  }
  return `${out}"`;
}

const shortEscapes: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };

function escapeCode(code: number): string {
  const short = shortEscapes[code];
  if (short) return short;
  // Lone surrogates cannot come from valid UTF-8; Go prints U+FFFD for invalid runes.
  if (code >= 0xd800 && code <= 0xdfff) return '\\ufffd';
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code < 0x10000) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}

/**
 * Parse one Go-quoted string at the start of `text`; returns the value and the rest of the
 * text, or undefined when `text` does not start with a well-formed quoted string.
 */
export function goUnquotePrefix(text: string): { value: string; rest: string } | undefined {
  if (!text.startsWith('"')) return undefined;
  let value = '';
  for (let i = 1; i < text.length; i++) {
    const char = text[i]!;
    if (char === '"') return { value, rest: text.slice(i + 1) };
    if (char !== '\\') {
      value += char;
      continue;
    }
    const next = text[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"', '\\': '\\' };
    if (next !== undefined && simple[next] !== undefined) {
      value += simple[next];
      continue;
    }
    const width = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
    const hex = text.slice(i + 1, i + 1 + width);
    if (width === 0 || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) return undefined;
    value += String.fromCodePoint(Number.parseInt(hex, 16));
    i += width;
  }
  return undefined;
}

/**
 * Parse an iptables masquerade comment back into its network and container ID, or undefined
 * when the comment is not one of ours.
 */
export function parseComment(comment: string): { name: string; id: string } | undefined {
  if (!comment.startsWith('name: ')) return undefined;
  const name = goUnquotePrefix(comment.slice('name: '.length));
  if (!name || !name.rest.startsWith(' id: ')) return undefined;
  const id = goUnquotePrefix(name.rest.slice(' id: '.length));
  if (!id || id.rest !== '') return undefined;
  return { name: name.value, id: id.value };
}

/** nft keeps at most 128 bytes of a rule comment. */
export const NFT_COMMENT_MAX_BYTES = 128;

/** Cut a string to at most `maxBytes` of UTF-8 without splitting a character. */
export function truncateUtf8(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value, 'utf8') <= maxBytes) return value;
  let out = '';
  let bytes = 0;
  for (const char of value) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}
