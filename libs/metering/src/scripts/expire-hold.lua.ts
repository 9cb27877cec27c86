import { LUA_COMMON } from './common.lua';

/**
 * Release one hold found expired by the sweeper (its gateway crashed or lost the request).
 * Re-checks the expiry inside the script: between the sweeper's ZRANGEBYSCORE and this call the
 * hold may have been renewed or settled, and then it must stay untouched.
 *
 * KEYS: 1 bal, 2 holds, 3 hold-expiry zset, 4 key spend
 * ARGV: 1 zset member, 2 requestId, 3 keyId, 4 nowMs
 */
export const EXPIRE_HOLD_LUA = `${LUA_COMMON}
local score = redis.call('ZSCORE', KEYS[3], ARGV[1])
if not score then return {'gone'} end
if tonumber(score) > tonumber(ARGV[4]) then return {'renewed'} end
redis.call('ZREM', KEYS[3], ARGV[1])
local h = redis.call('HGET', KEYS[2], ARGV[2])
if not h then return {'gone'} end
local a, k, counted = parse_hold(h)
if k ~= ARGV[3] then return {'gone'} end
redis.call('HDEL', KEYS[2], ARGV[2])
if a ~= 0 and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'held', fmt(-a)) end
if counted then key_held_add(KEYS[4], -a) end
return {'released', fmt(a)}
`;
