import { defineDecisionLifecycleSuite } from './decision-lifecycle.suite.ts';

defineDecisionLifecycleSuite('orchestration');
