import { defineResignationSuite } from './resignation-flow.suite.ts';

defineResignationSuite('choreography');
