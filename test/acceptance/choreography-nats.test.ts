/**
 * The same acceptance suites (the flow, the decision lifecycle) in choreography over NATS JetStream (the scale-out bus). Needs a NATS
 * server with JetStream (EMS_NATS_URL, default nats://127.0.0.1:4222): skipped with a visible message
 * when there is none — unless EMS_REQUIRE_SERVICES=1 (CI), where that is a failure.
 */
import { beforeAll, describe } from 'vitest';
import { checkNats } from '@ems/eventbus/testing';
import { defineResignationSuite } from './resignation-flow.suite.ts';
import { defineDecisionLifecycleSuite } from './decision-lifecycle.suite.ts';

const nats = await checkNats();

describe.skipIf(nats.skip)('on NATS', () => {
  beforeAll(() => nats.assertAvailable());
  defineResignationSuite('choreography', 'nats');
  defineDecisionLifecycleSuite('choreography', 'nats');
});
