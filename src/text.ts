// Checks on untrusted strings shared by the layers that receive them.

/**
 * True when `text` holds a C0 control character or DEL. Identities and keys with them could
 * forge a key built from them, break a log line, or hide in a header; no honest client needs them.
 */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
