/** The HR lead's involuntary and mass exits: end employments, follow a batch. */
export { EndEmploymentPage } from './end-employment.tsx';
export { ExitBatchPage } from './batch.tsx';
