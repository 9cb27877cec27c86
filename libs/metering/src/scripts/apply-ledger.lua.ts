import { LUA_COMMON } from './common.lua';

/**
 * Apply ledger entries pushed from Postgres, exactly once each: entry N moves the balance only if
 * N is greater than the applied seq stored in the balance hash, and the seq moves with it in the
 * same script. Two pushes of the same entries, concurrent or not, apply them once (I4).
 * Entries must arrive sorted by seq (the store sorts them); the writer pushes in seq order.
 *
 * `cred` takes every pushed entry, negatives (refunds, disputes) included, so that
 * bal == cred - used holds at all times (usage reaches bal only through settle, never here).
 *
 * KEYS: 1 bal
 * ARGV: seq1, amount1, seq2, amount2, ...
 */
export const APPLY_LEDGER_LUA = `${LUA_COMMON}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'balance_missing'} end
local applied_s = redis.call('HGET', KEYS[1], 'seq') or '0'
local applied = tonumber(applied_s)
local count = 0
for i = 1, #ARGV, 2 do
  if tonumber(ARGV[i]) > applied then
    redis.call('HINCRBY', KEYS[1], 'bal', ARGV[i + 1])
    redis.call('HINCRBY', KEYS[1], 'cred', ARGV[i + 1])
    applied, applied_s = tonumber(ARGV[i]), ARGV[i]
    count = count + 1
  end
end
if count > 0 then redis.call('HSET', KEYS[1], 'seq', applied_s) end
return {'applied', applied_s, tostring(count), redis.call('HGET', KEYS[1], 'bal')}
`;
