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
-- A hold is stored as "amount|keyId" under its request id, or "amount|keyId|u" when it does not
-- count toward the key's credit limit (a BYOK fee without include_byok_in_limit): only counted
-- holds are in the key's held total. Returns the amount, the key and whether it is counted.
local function parse_hold(v)
  local a, k, f = string.match(v, '^(%-?%d+)|([^|]+)|?(%a*)$')
  return tonumber(a), k, f ~= 'u'
end
-- The key's open-hold total can only be lost with Redis itself; clamp rather than go negative.
local function key_held_add(key, delta)
  if delta == 0 then return end
  local h = num(redis.call('HGET', key, 'held')) + delta
  if h < 0 then h = 0 end
  redis.call('HSET', key, 'held', fmt(h))
end
-- Whether credit-limit period id p comes after the stored one s. Ids of one kind sort by time
-- (d2026-11-26, w2026-11-23, m2026-11); an id of another kind means the key's limit_reset
-- changed, which only a reserve may act on (with_kind_change): a settle counts into the stored
-- period. A request whose gateway clock is behind never takes the spend back to an older period.
local function newer_period(p, s, with_kind_change)
  if not s then return true end
  if p == s then return false end
  if string.sub(p, 1, 1) ~= string.sub(s, 1, 1) then return with_kind_change end
  return p > s
end
`;
