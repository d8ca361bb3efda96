/**
 * Values that end up in a mail header. A CR or LF inside a header value would end the header and
 * let the rest of the value become a header of its own ("\r\nBcc: someone@else"): header injection.
 * Every header value built from caller data goes through `headerValue` first.
 */

// C0 controls (incl. CR, LF, TAB), DEL, C1 controls and the Unicode line/paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;

/** One line of printable text: control characters become a space, runs of space collapse, ends trimmed. */
export function headerValue(value: string): string {
  return value.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
}

/** The same for a file name in Content-Disposition/Content-Type; path separators and quotes go too. */
export function headerFilename(value: string): string {
  return headerValue(value.replace(/["/\\]/g, '_')) || 'attachment';
}
