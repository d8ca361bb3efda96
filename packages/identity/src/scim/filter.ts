/**
 * SCIM filters and PATCH paths (RFC 7644 §3.4.2.2 and §3.5.2): a tokenizer, a recursive-descent parser to an
 * AST, and a printer whose output parses back to the same AST.
 *
 *   FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"        precedence: not > and > or
 *   valuePath = attrPath "[" valFilter "]"                                   (no valuePath inside another)
 *   attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
 *   attrPath  = [URI ":"] ATTRNAME *1subAttr
 *   PATH      = attrPath / valuePath [subAttr]                               (PATCH)
 *
 * Operators and keywords are case-insensitive; attribute names keep the caller's spelling here and are
 * matched case-insensitively by whoever resolves them.
 */

export const COMPARE_OPS = ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le'] as const;
export type CompareOp = (typeof COMPARE_OPS)[number];
export type CompValue = string | number | boolean | null;

/** `urn:…:User:name.givenName` → { uri: 'urn:…:User', attr: 'name', sub: 'givenName' }. */
export interface AttrPath {
  uri?: string;
  attr: string;
  sub?: string;
}

export type Filter =
  | { op: 'and' | 'or'; left: Filter; right: Filter }
  | { op: 'not'; filter: Filter }
  | { op: 'pr'; path: AttrPath }
  | { op: CompareOp; path: AttrPath; value: CompValue }
  /** `emails[type eq "work"]`: the inner filter's paths are sub-attributes of `path`. */
  | { op: 'valuePath'; path: AttrPath; filter: Filter };

/** A PATCH operation's target: an attribute, optionally narrowed by a value filter, then a sub-attribute. */
export interface PatchPath {
  path: AttrPath;
  filter?: Filter;
  /** `emails[type eq "work"].value` → 'value'. */
  sub?: string;
}

/** A filter or path that does not follow the grammar: answered 400 invalidFilter / invalidPath. */
export class ScimSyntaxError extends Error {
  readonly position: number;
  constructor(message: string, position: number) {
    super(message);
    this.name = 'ScimSyntaxError';
    this.position = position;
  }
}

/** Longest filter or path accepted (a client sending more is not writing a filter). */
export const MAX_FILTER_LENGTH = 4096;
/** Deepest nesting of parentheses and `not`s accepted (the parser recurses). */
export const MAX_FILTER_DEPTH = 32;

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: '(' | ')' | '[' | ']' | 'end'; at: number }
  /** `].value` after a value path (PATCH paths only). */
  | { kind: 'sub'; name: string; at: number };

const NAME = '[A-Za-z$][A-Za-z0-9_$-]*';
const WORD = /[A-Za-z][A-Za-z0-9:._$-]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9A-Fa-f]{4})*"/y;
const SUB_AFTER_BRACKET = new RegExp(`\\.(${NAME})`, 'y');

function tokenize(input: string): Token[] {
  if (input.length > MAX_FILTER_LENGTH) throw new ScimSyntaxError(`longer than ${MAX_FILTER_LENGTH} characters`, MAX_FILTER_LENGTH);
  const out: Token[] = [];
  let i = 0;
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    const m = re.exec(input);
    return m ? m[0] : undefined;
  };
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === '[') {
      out.push({ kind: c, at: i++ });
      continue;
    }
    if (c === ']') {
      out.push({ kind: ']', at: i++ });
      SUB_AFTER_BRACKET.lastIndex = i;
      const sub = SUB_AFTER_BRACKET.exec(input);
      if (sub) {
        out.push({ kind: 'sub', name: sub[1]!, at: i });
        i += sub[0].length;
      }
      continue;
    }
    if (c === '"') {
      const s = match(STRING);
      if (s === undefined) throw new ScimSyntaxError('a string that is not closed or has an invalid escape', i);
      out.push({ kind: 'string', value: JSON.parse(s) as string, at: i });
      i += s.length;
      continue;
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      const n = match(NUMBER);
      if (n === undefined) throw new ScimSyntaxError('a malformed number', i);
      const value = Number(n);
      if (!Number.isFinite(value)) throw new ScimSyntaxError('a number out of range', i);
      out.push({ kind: 'number', value, at: i });
      i += n.length;
      continue;
    }
    const w = match(WORD);
    if (w === undefined) throw new ScimSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
    out.push({ kind: 'word', text: w, at: i });
    i += w.length;
  }
  out.push({ kind: 'end', at: input.length });
  return out;
}

const ATTR_PATH = new RegExp(`^(?:(.+):)?(${NAME})(?:\\.(${NAME}))?$`);

/** `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName` → its URI, attribute and sub-attribute. */
export function parseAttrPath(text: string, at = 0): AttrPath {
  const m = ATTR_PATH.exec(text);
  if (!m) throw new ScimSyntaxError(`${JSON.stringify(text.slice(0, 100))} is not an attribute path`, at);
  const [, uri, attr, sub] = m;
  if (uri !== undefined && !/^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:[A-Za-z0-9()+,\-.:=@;$_!*'%/?#]+$/i.test(uri)) throw new ScimSyntaxError(`${JSON.stringify(uri.slice(0, 100))} is not a schema URI`, at);
  return { ...(uri !== undefined ? { uri } : {}), attr: attr!, ...(sub !== undefined ? { sub } : {}) };
}

class Parser {
  private i = 0;
  private depth = 0;
  private readonly tokens: Token[];
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    return this.tokens[this.i++]!;
  }
  private keyword(t: Token, ...words: string[]): boolean {
    return t.kind === 'word' && words.includes(t.text.toLowerCase());
  }
  private expect(kind: Token['kind'], what: string): Token {
    const t = this.next();
    if (t.kind !== kind) throw new ScimSyntaxError(`expected ${what}, found ${describe(t)}`, t.at);
    return t;
  }
  private deeper<T>(t: Token, f: () => T): T {
    if (++this.depth > MAX_FILTER_DEPTH) throw new ScimSyntaxError(`nested deeper than ${MAX_FILTER_DEPTH}`, t.at);
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  end(): void {
    const t = this.peek();
    if (t.kind !== 'end') throw new ScimSyntaxError(`unexpected ${describe(t)}`, t.at);
  }

  /** FILTER, or valFilter inside brackets (`inValue`: no value path allowed). */
  or(inValue: boolean): Filter {
    let left = this.and(inValue);
    while (this.keyword(this.peek(), 'or')) {
      this.next();
      left = { op: 'or', left, right: this.and(inValue) };
    }
    return left;
  }
  private and(inValue: boolean): Filter {
    let left = this.unary(inValue);
    while (this.keyword(this.peek(), 'and')) {
      this.next();
      left = { op: 'and', left, right: this.unary(inValue) };
    }
    return left;
  }
  private unary(inValue: boolean): Filter {
    const t = this.peek();
    if (this.keyword(t, 'not') && this.tokens[this.i + 1]?.kind === '(') {
      this.next();
      this.next();
      const filter = this.deeper(t, () => this.or(inValue));
      this.expect(')', '")"');
      return { op: 'not', filter };
    }
    if (t.kind === '(') {
      this.next();
      const inner = this.deeper(t, () => this.or(inValue));
      this.expect(')', '")"');
      return inner;
    }
    return this.attrExp(inValue);
  }
  private attrExp(inValue: boolean): Filter {
    const t = this.next();
    if (t.kind !== 'word') throw new ScimSyntaxError(`expected an attribute path, found ${describe(t)}`, t.at);
    const path = parseAttrPath(t.text, t.at);
    if (this.peek().kind === '[') {
      const open = this.next();
      if (inValue) throw new ScimSyntaxError('a value filter inside another value filter', open.at);
      if (path.sub !== undefined) throw new ScimSyntaxError('a value filter applies to a multi-valued attribute, not to a sub-attribute', open.at);
      const filter = this.deeper(open, () => this.or(true));
      this.expect(']', '"]"');
      if (this.peek().kind === 'sub') throw new ScimSyntaxError('a sub-attribute after a value filter belongs in a PATCH path, not in a filter', this.peek().at);
      return { op: 'valuePath', path, filter };
    }
    const opTok = this.next();
    if (opTok.kind !== 'word') throw new ScimSyntaxError(`expected an operator after ${t.text}, found ${describe(opTok)}`, opTok.at);
    const op = opTok.text.toLowerCase();
    if (op === 'pr') return { op: 'pr', path };
    if (!(COMPARE_OPS as readonly string[]).includes(op)) throw new ScimSyntaxError(`unknown operator ${JSON.stringify(opTok.text)}`, opTok.at);
    return { op: op as CompareOp, path, value: this.compValue() };
  }
  private compValue(): CompValue {
    const t = this.next();
    if (t.kind === 'string' || t.kind === 'number') return t.value;
    if (t.kind === 'word') {
      const w = t.text.toLowerCase();
      if (w === 'true') return true;
      if (w === 'false') return false;
      if (w === 'null') return null;
    }
    throw new ScimSyntaxError(`expected a value (a string in double quotes, a number, true, false or null), found ${describe(t)}`, t.at);
  }

  /** PATH = attrPath / valuePath [subAttr] */
  patchPath(): PatchPath {
    const t = this.next();
    if (t.kind !== 'word') throw new ScimSyntaxError(`expected an attribute path, found ${describe(t)}`, t.at);
    const path = parseAttrPath(t.text, t.at);
    if (this.peek().kind !== '[') return { path };
    const open = this.next();
    if (path.sub !== undefined) throw new ScimSyntaxError('a value filter applies to a multi-valued attribute, not to a sub-attribute', open.at);
    const filter = this.deeper(open, () => this.or(true));
    this.expect(']', '"]"');
    const sub = this.peek();
    if (sub.kind === 'sub') {
      this.next();
      return { path, filter, sub: sub.name };
    }
    return { path, filter };
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'end':
      return 'the end';
    case 'word':
      return JSON.stringify(t.text.slice(0, 60));
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'sub':
      return `".${t.name}"`;
    default:
      return JSON.stringify(t.kind);
  }
}

/** Parses a `filter` query parameter. Throws ScimSyntaxError. */
export function parseFilter(input: string): Filter {
  const p = new Parser(tokenize(input));
  const f = p.or(false);
  p.end();
  return f;
}

/** Parses a PATCH operation's `path`. Throws ScimSyntaxError. */
export function parsePatchPath(input: string): PatchPath {
  const p = new Parser(tokenize(input));
  const path = p.patchPath();
  p.end();
  return path;
}

// ── Printing ─────────────────────────────────────────────────────────────────────────────────────────

export function printAttrPath(p: AttrPath): string {
  return `${p.uri !== undefined ? `${p.uri}:` : ''}${p.attr}${p.sub !== undefined ? `.${p.sub}` : ''}`;
}

function printValue(v: CompValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

const precedence = (f: Filter): number => (f.op === 'or' ? 1 : f.op === 'and' ? 2 : 3);

/** The filter as text; `parseFilter(printFilter(f))` gives `f` back. */
export function printFilter(f: Filter): string {
  switch (f.op) {
    case 'and':
    case 'or': {
      const p = precedence(f);
      // Left-associative: a right operand of the same precedence needs its parentheses.
      const left = precedence(f.left) < p ? `(${printFilter(f.left)})` : printFilter(f.left);
      const right = precedence(f.right) <= p ? `(${printFilter(f.right)})` : printFilter(f.right);
      return `${left} ${f.op} ${right}`;
    }
    case 'not':
      return `not (${printFilter(f.filter)})`;
    case 'pr':
      return `${printAttrPath(f.path)} pr`;
    case 'valuePath':
      return `${printAttrPath(f.path)}[${printFilter(f.filter)}]`;
    default:
      return `${printAttrPath(f.path)} ${f.op} ${printValue(f.value)}`;
  }
}

export function printPatchPath(p: PatchPath): string {
  return `${printAttrPath(p.path)}${p.filter ? `[${printFilter(p.filter)}]` : ''}${p.sub !== undefined ? `.${p.sub}` : ''}`;
}
