import { LUA_COMMON } from './common.lua';

/**
 * Push a running request's hold expiry to at least `expiresAtMs` (never shortens it, so a late
 * renew cannot make a hold sweepable earlier). A hold already swept or settled is not recreated:
 * the request is still charged in full at settle.
 *
 * KEYS: 1 holds, 2 hold-expiry zset
 * ARGV: 1 tenantId, 2 requestId, 3 expiresAtMs
 */
export const RENEW_LUA = `${LUA_COMMON}
local h = redis.call('HGET', KEYS[1], ARGV[2])
if not h then return {'missing'} end
local _, k = parse_hold(h)
local member = ARGV[1] .. '|' .. k .. '|' .. ARGV[2]
local expires = tonumber(ARGV[3])
local cur = redis.call('ZSCORE', KEYS[2], member)
if cur and tonumber(cur) > expires then expires = tonumber(cur) end
redis.call('ZADD', KEYS[2], fmt(expires), member)
return {'renewed', fmt(expires)}
`;
