/**
 * Helpers prepended to every script. Amounts arrive as decimal strings and are compared as Lua
 * numbers (doubles): exact while |value| < 2^53 micros (about 9 billion USD), which the store
 * enforces on every input. Arithmetic on stored values goes through HINCRBY (64-bit integers);
 * numbers leave Lua through fmt(), never tostring() (exponent notation above 1e14) and never as
 * a "-0", which HINCRBY refuses.
 */
export const LUA_COMMON = `
local function fmt(n)
  if n == 0 then return '0' end
  return string.format('%.0f', n)
end
local function num(v)
  if not v then return 0 end
  return tonumber(v)
end
-- A hold is stored as "amount|keyId" under its request id.
local function parse_hold(v)
  local a, k = string.match(v, '^(%-?%d+)|(.+)$')
  return tonumber(a), k
end
-- The key's open-hold total can only be lost with Redis itself; clamp rather than go negative.
local function key_held_add(key, delta)
  if delta == 0 then return end
  local h = num(redis.call('HGET', key, 'held')) + delta
  if h < 0 then h = 0 end
  redis.call('HSET', key, 'held', fmt(h))
end
`;
