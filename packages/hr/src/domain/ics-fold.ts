/**
 * RFC 5545 §3.1: a content line is at most 75 *octets* (UTF-8) long, excluding the line break; longer ones
 * are folded with CRLF followed by one space (which counts toward the next line's 75). The `ics` library
 * folds by characters, so a name with non-ASCII letters grows lines past 75 octets: unfold, then fold again
 * by octets, never inside a character.
 */
export function foldByOctets(ics: string): string {
  const unfolded = ics.replace(/\r\n[ \t]/g, '');
  return unfolded
    .split('\r\n')
    .map((line) => foldLine(line))
    .join('\r\n');
}

function foldLine(line: string): string {
  if (Buffer.byteLength(line, 'utf8') <= 75) return line;
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  let limit = 75;
  for (const ch of line) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
      limit = 74; // the leading space of a continuation line is one of its 75 octets
    }
    current += ch;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}
