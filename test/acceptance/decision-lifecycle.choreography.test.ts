import { defineDecisionLifecycleSuite } from './decision-lifecycle.suite.ts';

defineDecisionLifecycleSuite('choreography');
