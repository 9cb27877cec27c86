export * from './routing-document';
export * from './routing-document.validator';
export * from './planner/plan.types';
export * from './planner/planner';
export * from './planner/weighted-pick';
export * from './health/circuit-policy';
export * from './health/health.tracker';
