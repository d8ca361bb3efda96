import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

/**
 * The CLI's saved sign-ins: one entry per EMS URL, in a file only its owner may read (0600, in a 0700
 * directory). A file others can read is refused, as ssh refuses a private key others can read.
 */
export interface SavedSignIn {
  issuer: string;
  clientId: string;
  accessToken: string;
  refreshToken: string | null;
  /** Epoch ms. */
  expiresAt: number;
  person: string | null;
}

export class CredentialsError extends Error {}

export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EMS_CREDENTIALS_FILE) return path.resolve(env.EMS_CREDENTIALS_FILE);
  const base = env.XDG_CONFIG_HOME || path.join(homedir(), '.config');
  return path.join(base, 'ems', 'credentials.json');
}

function readAll(file: string): Record<string, SavedSignIn> {
  if (!existsSync(file)) return {};
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) throw new CredentialsError(`${file} is readable by others (mode ${mode.toString(8)}): run \`chmod 600 ${file}\` (or delete it and sign in again)`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, SavedSignIn>;
  } catch {
    throw new CredentialsError(`${file} is not valid JSON: remove it and sign in again (ems login)`);
  }
}

export function loadSignIn(url: string, file = credentialsFile()): SavedSignIn | undefined {
  return readAll(file)[url];
}

export function saveSignIn(url: string, entry: SavedSignIn | undefined, file = credentialsFile()): void {
  const all = readAll(file);
  if (entry) all[url] = entry;
  else delete all[url];
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}
