/**
 * Reads a people file in a worker thread (read-people-file.ts starts it): a 5 MB export takes seconds of CPU to
 * parse and check, which on the server's own thread would stop every other request meanwhile.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readPeopleFile } from './people-csv.ts';

parentPort?.postMessage(readPeopleFile(workerData as string));
