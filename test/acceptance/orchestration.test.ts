import { defineResignationSuite } from './resignation-flow.suite.ts';

defineResignationSuite('orchestration');
