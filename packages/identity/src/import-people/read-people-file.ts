import { Worker } from 'node:worker_threads';
import type { Logger } from '@ems/platform';
import { readPeopleFile, type PeopleFile } from './people-csv.ts';

/** Files up to this size are read on the calling thread: starting a worker costs more than reading them. */
export const READ_INLINE_BYTES = 256 * 1024;

let queue: Promise<unknown> = Promise.resolve();

/**
 * readPeopleFile, off the event loop for a large file: the file is read in a worker thread, one file at a time
 * (a second import's file waits for the first's), so the server goes on answering meanwhile. Should a worker not
 * start, the file is read here, as before.
 */
export function readPeopleFileOffThread(text: string, log?: Pick<Logger, 'warn'>): Promise<PeopleFile> {
  if (text.length <= READ_INLINE_BYTES) return Promise.resolve(readPeopleFile(text));
  const read = queue.then(() => inWorker(text)).catch((err: unknown) => {
    log?.warn({ err }, 'reading the people file in a worker thread failed; reading it on the server thread');
    return readPeopleFile(text);
  });
  queue = read.catch(() => undefined);
  return read;
}

function inWorker(text: string): Promise<PeopleFile> {
  return new Promise<PeopleFile>((resolve, reject) => {
    const worker = new Worker(new URL('./read-people-file.worker.ts', import.meta.url), { workerData: text });
    let answered = false;
    worker.once('message', (file: PeopleFile) => {
      answered = true;
      resolve(file);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (!answered) reject(new Error(`the people file's worker exited with code ${code} before answering`));
    });
  });
}
