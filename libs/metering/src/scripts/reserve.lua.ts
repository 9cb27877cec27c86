import { LUA_COMMON } from './common.lua';

/**
 * Reserve (or, in 'adjust' mode, resize) a request's hold in one atomic step.
 *
 * KEYS: 1 bal, 2 holds, 3 hold-expiry zset, 4 key status, 5 key spend, 6 settled marker,
 *       7 rate window (current), 8 rate window (previous)
 * ARGV: 1 mode ('reserve'|'adjust'), 2 tenantId, 3 keyId, 4 requestId, 5 amount, 6 overdraft,
 *       7 expiresAtMs, 8 nowMs, 9 windowMs, 10 windowStartMs, 11 rpm limit|'', 12 tpm limit|'',
 *       13 tokens estimate, 14 key credit limit|'', 15 key period id|'', 16 rate window ttl ms,
 *       17 the hold counts toward the key's credit limit ('1'|'0': a BYOK fee without
 *          include_byok_in_limit does not, and stays out of the key's held total)
 *
 * Order of checks (first failure wins, nothing is written on failure): replay, settled marker,
 * key status, rate limits, balance presence, available balance, key credit limit. Then the hold,
 * its expiry, bal.held, the key's held and the rate counters are written together, so I1/I2 hold
 * under any concurrency: Redis runs one script at a time.
 */
export const RESERVE_LUA = `${LUA_COMMON}
local mode = ARGV[1]
local key_id = ARGV[3]
local request_id = ARGV[4]
local amount = tonumber(ARGV[5])
local overdraft = tonumber(ARGV[6])

local existing = redis.call('HGET', KEYS[2], request_id)
local old, old_key, old_counted = 0, key_id, true
if existing then
  old, old_key, old_counted = parse_hold(existing)
  if old_key ~= key_id then return redis.error_reply('ERR hold ' .. request_id .. ' belongs to another key') end
end
local score = existing and redis.call('ZSCORE', KEYS[3], ARGV[2] .. '|' .. key_id .. '|' .. request_id)

if mode == 'reserve' and existing then
  local b = redis.call('HMGET', KEYS[1], 'bal', 'held')
  return {'ok', fmt(old), fmt(num(b[1]) - num(b[2]) + overdraft), '1', score and fmt(tonumber(score)) or ARGV[7]}
end
if redis.call('EXISTS', KEYS[6]) == 1 then return {'already_settled'} end

local status = redis.call('GET', KEYS[4])
if status ~= 'active' then return {'key_inactive', status or ''} end

if mode == 'reserve' and (ARGV[11] ~= '' or ARGV[12] ~= '') then
  local W = tonumber(ARGV[9])
  local e = tonumber(ARGV[8]) - tonumber(ARGV[10])
  local weight = (W - e) / W
  local cur = redis.call('HMGET', KEYS[7], 'r', 't')
  local prev = redis.call('HMGET', KEYS[8], 'r', 't')
  -- Sliding-window estimate: prev * (share of the previous window still inside the last W ms)
  -- + cur. The wait is solved from the same formula so Retry-After is the earliest instant at
  -- which this request fits (or nil when it alone exceeds the limit).
  local function wait_ms(p, c, cost, limit)
    if cost > limit then return nil end
    local t
    if c + cost <= limit and p > 0 then
      t = math.ceil(W - e - (limit - c - cost) * W / p)
    else
      local t2 = 0
      if c > 0 then t2 = math.ceil(W - (limit - cost) * W / c) end
      if t2 < 0 then t2 = 0 end
      t = (W - e) + t2
    end
    if t < 1 then t = 1 end
    return t
  end
  -- Both limits are checked: the wait is the later of the two (each estimate only falls as time
  -- passes), so a retry at Retry-After is not refused by the other limit.
  local checks = {{ARGV[11], 1, 1, 'rpm'}, {ARGV[12], 2, tonumber(ARGV[13]), 'tpm'}}
  local refused, worst = nil, 0
  for _, c in ipairs(checks) do
    if c[1] ~= '' then
      local limit = tonumber(c[1])
      local p, n = num(prev[c[2]]), num(cur[c[2]])
      if p * weight + n + c[3] > limit then
        local w = wait_ms(p, n, c[3], limit)
        if not w then return {'rate_limited', c[4], ''} end
        if not refused or w > worst then refused, worst = c[4], w end
      end
    end
  end
  if refused then return {'rate_limited', refused, fmt(worst)} end
end

local b = redis.call('HMGET', KEYS[1], 'bal', 'held')
if not b[1] then return {'balance_missing'} end
local available = tonumber(b[1]) - num(b[2]) + overdraft + old
local delta = amount - old
if delta > 0 and available < amount then
  local others = redis.call('HLEN', KEYS[2]) - (existing and 1 or 0)
  return {'insufficient', fmt(available), others > 0 and '1' or '0'}
end

local ks = redis.call('HMGET', KEYS[5], 'pid', 'spent', 'held')
local rollover = ARGV[15] ~= '' and newer_period(ARGV[15], ks[1], true)
-- What the key's held total (the limit's in-flight part) gains: the counted part of the new hold
-- less the counted part of the old one.
local counted = ARGV[17] ~= '0'
local counted_delta = (counted and amount or 0) - (old_counted and old or 0)
-- An adjustment is checked even when it shrinks the hold: it may move the request from a hold that
-- did not count toward the limit (the tenant's own key) to one that does, of the new amount.
if ARGV[14] ~= '' and (counted_delta > 0 or mode == 'adjust') then
  local spent = num(ks[2])
  if rollover then spent = 0 end
  local kheld = num(ks[3])
  if spent + kheld + counted_delta > tonumber(ARGV[14]) then
    return {'key_limit', ARGV[14], fmt(spent), fmt(kheld)}
  end
end

redis.call('HSET', KEYS[2], request_id, ARGV[5] .. '|' .. key_id .. (counted and '' or '|u'))
local expires = tonumber(ARGV[7])
if score and tonumber(score) > expires then expires = tonumber(score) end
redis.call('ZADD', KEYS[3], fmt(expires), ARGV[2] .. '|' .. key_id .. '|' .. request_id)
if delta ~= 0 then redis.call('HINCRBY', KEYS[1], 'held', fmt(delta)) end
-- The key's held is the sum of its open counted holds whatever their period: a hold taken before
-- a period rolls over is charged (and must be counted) in the period in which it settles.
key_held_add(KEYS[5], counted_delta)
if rollover then redis.call('HSET', KEYS[5], 'pid', ARGV[15], 'spent', '0') end
if mode == 'reserve' and (ARGV[11] ~= '' or ARGV[12] ~= '') then
  redis.call('HINCRBY', KEYS[7], 'r', 1)
  redis.call('HINCRBY', KEYS[7], 't', ARGV[13])
  redis.call('PEXPIRE', KEYS[7], ARGV[16])
end
return {'ok', ARGV[5], fmt(available - amount), '0', fmt(expires)}
`;
