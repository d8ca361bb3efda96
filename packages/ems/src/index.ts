/**
 * @ems/ems — the EMS service: resignation cases, their orchestration (DBOS workflows) and choreography
 * (event reactions), exits, follow-ups, dead letters, the directory. What the composition root
 * (@ems/server) needs to build it into a process; EMS imports no other service (lint:layers).
 */
export { createEmsDb, createEmsService, EMS_SCHEMA } from './ems.service.ts';
export { migrations } from './db/migrations.ts';
export { createDirectory } from './directory/directory.ts';
export { inProcessCaseLookup } from './resignations/case-facts.ts';
export type { CoordinationMode } from './resignations/coordination-mode.ts';
export { CHOREOGRAPHY_SUBSCRIBERS, choreographyMode } from './choreography/choreography-mode.ts';
export { choreographyExitStarter } from './choreography/exits-starter.ts';
export { TRACK_EXITS_SUBSCRIBER, trackExitsWhenReported } from './choreography/track-exits-when-reported.ts';
export { ORCHESTRATION_SUBSCRIBERS, orchestrationMode, WORKFLOW_VERSION } from './orchestration/orchestration-mode.ts';
export { createExitsOrchestrator, orchestrationExitStarter, RECORD_EXIT_REVOCATIONS_SUBSCRIBER, recordExitRevocations } from './orchestration/exits.workflow.ts';
export { createParticipants } from './orchestration/participants.ts';
export { dbosLogger } from './orchestration/dbos-logger.ts';
export { createExitBatchStore } from './exits/exit-batch.store.ts';
export { exitRoutes } from './exits/exits.http.ts';
