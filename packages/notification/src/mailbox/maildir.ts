import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { simpleParser, type AddressObject, type Attachment, type HeaderValue, type ParsedMail } from 'mailparser';
import type { mailbox } from '@ems/contracts';

type MailboxAttachment = mailbox.MailboxAttachment;
type MailboxMessage = mailbox.MailboxMessage;
type MailboxMessageSummary = mailbox.MailboxMessageSummary;

/**
 * The capture server's mailbox on disk: a Maildir (tmp/, new/, cur/), one raw RFC 5322 file per message,
 * written to tmp/ and renamed into new/ once complete and synced — a reader never sees half a message,
 * and a message the SMTP client was told is accepted survives a crash. The envelope, which the message
 * itself does not carry, is written on top as a delivery agent does: `Return-Path:` and one `Delivered-To:`
 * per recipient. At most `keep` messages are kept; the oldest go first.
 *
 * File names are `<ms since epoch, 13 digits>.<14 letters or digits>.ems` ("time.unique.host"), so the
 * newest sort last; the first two parts are the message's id in the API.
 */
export interface Envelope {
  from: string;
  to: string[];
}

export interface Maildir {
  readonly dir: string;
  /** Stores one message as received; resolves with its id once it is on disk. */
  deliver(raw: Buffer, envelope: Envelope): Promise<string>;
  /** Newest first; with `recipients`, only messages delivered to one of them (case-insensitive). */
  list(filter: { recipients?: readonly string[] | undefined }, page: { limit: number; offset: number }): Promise<{ items: MailboxMessageSummary[]; nextOffset: number | null }>;
  /** One message, parsed; undefined when there is none with this id (or it was pruned). */
  get(id: string): Promise<(MailboxMessage & { deliveredTo: string[] }) | undefined>;
}

const SUFFIX = '.ems';
const ID = /^\d{13}\.[0-9a-z]{14}$/;

export async function openMaildir(options: { dir: string; keep?: number }): Promise<Maildir> {
  const { dir } = options;
  const keep = options.keep ?? 1000;
  await Promise.all(['tmp', 'new', 'cur'].map((d) => mkdir(path.join(dir, d), { recursive: true, mode: 0o700 })));
  // What a crash left half-written in tmp/ was never acknowledged: it goes.
  for (const f of await readdir(path.join(dir, 'tmp'))) await unlink(path.join(dir, 'tmp', f)).catch(() => undefined);

  /** Ids on disk, oldest first (names sort by arrival). */
  const ids = (await readdir(path.join(dir, 'new'))).filter((f) => f.endsWith(SUFFIX) && ID.test(f.slice(0, -SUFFIX.length))).map((f) => f.slice(0, -SUFFIX.length)).sort();
  /** Parsed summaries, filled lazily (the first list reads what earlier runs stored) and by each delivery. */
  const summaries = new Map<string, MailboxMessageSummary>();
  let sequence = 0;
  const fileOf = (id: string) => path.join(dir, 'new', `${id}${SUFFIX}`);

  const prune = async () => {
    while (ids.length > keep) {
      const oldest = ids.shift()!;
      summaries.delete(oldest);
      await unlink(fileOf(oldest)).catch(() => undefined);
    }
  };
  await prune();

  const nextId = () => {
    sequence = (sequence + 1) % 1_000_000;
    return `${String(Date.now()).padStart(13, '0')}.${String(sequence).padStart(6, '0')}${randomBytes(4).toString('hex')}`;
  };

  const summaryOf = async (id: string): Promise<MailboxMessageSummary | undefined> => {
    const known = summaries.get(id);
    if (known) return known;
    const raw = await readFile(fileOf(id)).catch(() => undefined);
    if (!raw) return undefined;
    const summary = toSummary(id, await simpleParser(raw));
    summaries.set(id, summary);
    return summary;
  };

  return {
    dir,
    async deliver(raw, envelope) {
      const id = nextId();
      const trace = [`Return-Path: <${oneLine(envelope.from)}>`, ...envelope.to.map((to) => `Delivered-To: ${oneLine(to)}`)].join('\r\n') + '\r\n';
      const tmp = path.join(dir, 'tmp', `${id}${SUFFIX}`);
      const file = await open(tmp, 'wx', 0o600);
      try {
        await file.writeFile(Buffer.concat([Buffer.from(trace, 'utf8'), raw]));
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(tmp, fileOf(id));
      ids.push(id);
      await prune();
      return id;
    },
    async list(filter, page) {
      const wanted = filter.recipients && new Set(filter.recipients.map((r) => r.toLowerCase()));
      const items: MailboxMessageSummary[] = [];
      let skipped = 0;
      let more = false;
      // Newest first; read only as far as the page needs.
      for (const id of [...ids].reverse()) {
        const s = await summaryOf(id);
        if (!s) continue;
        if (wanted && !s.deliveredTo.some((r) => wanted.has(r.toLowerCase()))) continue;
        if (skipped < page.offset) {
          skipped++;
          continue;
        }
        if (items.length === page.limit) {
          more = true;
          break;
        }
        items.push(s);
      }
      return { items, nextOffset: more ? page.offset + page.limit : null };
    },
    async get(id) {
      if (!ID.test(id)) return undefined;
      const raw = await readFile(fileOf(id)).catch(() => undefined);
      if (!raw) return undefined;
      const mail = await simpleParser(raw);
      return { ...toSummary(id, mail), text: mail.text ?? '', html: typeof mail.html === 'string' ? mail.html : null, attachments: mail.attachments.map(toAttachment) };
    },
  };
}

const oneLine = (s: string) => s.replace(/[\r\n<>]/g, '');

function toSummary(id: string, mail: ParsedMail): MailboxMessageSummary {
  const receivedAt = new Date(Number(id.slice(0, 13))).toISOString();
  const deliveredTo = mail.headerLines.filter((h) => h.key === 'delivered-to').map((h) => h.line.slice(h.line.indexOf(':') + 1).trim());
  return {
    id,
    from: mail.from?.text ?? '',
    to: addresses(mail.to),
    deliveredTo,
    subject: mail.subject ?? '',
    date: mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date.toISOString() : receivedAt,
    receivedAt,
    messageId: mail.messageId ?? null,
    hasHtml: typeof mail.html === 'string',
    attachmentCount: mail.attachments.length,
  };
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value.flatMap((v) => (v.address ? [v.address] : [])));
}

function toAttachment(a: Attachment): MailboxAttachment {
  const text = a.contentType.startsWith('text/');
  return {
    filename: a.filename ?? null,
    contentType: a.contentType,
    params: contentTypeParams(a.headers.get('content-type')),
    size: a.size ?? a.content.length,
    encoding: text ? 'utf8' : 'base64',
    content: a.content.toString(text ? 'utf8' : 'base64'),
  };
}

export function contentTypeParams(value: HeaderValue | undefined): Record<string, string> {
  if (value && typeof value === 'object' && 'params' in value && value.params) {
    return Object.fromEntries(Object.entries(value.params).map(([k, v]) => [k.toLowerCase(), String(v)]));
  }
  return {};
}
