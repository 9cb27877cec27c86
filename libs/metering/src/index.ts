export * from './pricing';
export * from './price-card';
export * from './redis-keys';
export * from './credit-store.types';
export * from './credit-store';
export * from './usage-stream';
export * from './usage-journal-format';
export * from './platform-caps';
export * from './metering.errors';
export { LuaScript } from './lua-script';
export { MAX_LUA_SAFE, RESERVED_EVENT_FIELDS } from './wire';
// Nest wiring of the stores over the process's Redis connection (infra/ is the composition side).
export * from './infra/redis.module';
export * from './infra/credit-store.module';
export * from './infra/invalidation.bus';
export * from './infra/ops.module';
