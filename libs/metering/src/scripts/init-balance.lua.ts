import { LUA_COMMON } from './common.lua';

/**
 * (Re)build a tenant's balance hash from ledger figures.
 * 'init' creates it only if absent (two rebuilders racing create it once, and a live balance is
 * never overwritten by a stale rebuild). 'force' overwrites it for reconciliation, optionally
 * only if the applied seq is still the one the reconciler read (no credit pushed in between) and
 * the balance still the one it read (no settle in between, whose debit the ledger does not have
 * yet). In both modes `held` is recomputed from the open holds, which survive a lost balance hash.
 *
 * 'init' can also require that the tenant's usage stream has no entry newer than the one the
 * rebuilder saw last (ARGV 9): a settle while the balance is missing writes its event but no debit,
 * and an event the rebuilder did not count would otherwise be free.
 *
 * KEYS: 1 bal, 2 holds, 3 usage stream
 * ARGV: 1 mode ('init'|'force'), 2 bal, 3 cred, 4 used, 5 seq, 6 expected seq|'', 7 expected bal|'',
 *       8 expected used|'', 9 last stream entry id seen ('-' for none)|''
 */
export const INIT_BALANCE_LUA = `${LUA_COMMON}
if ARGV[1] == 'init' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return {'exists'} end
  if ARGV[9] ~= '' then
    local last = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
    if (last and last[1] or '-') ~= ARGV[9] then return {'stream_moved'} end
  end
else
  if ARGV[6] ~= '' then
    local cur = redis.call('HGET', KEYS[1], 'seq')
    if cur ~= ARGV[6] then return {'seq_mismatch', cur or ''} end
  end
  if ARGV[7] ~= '' then
    local b = redis.call('HMGET', KEYS[1], 'bal', 'used')
    if b[1] ~= ARGV[7] or (ARGV[8] ~= '' and b[2] ~= ARGV[8]) then return {'balance_moved', b[1] or ''} end
  end
end
local held = 0
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do
  local a = parse_hold(v)
  held = held + a
end
redis.call('HSET', KEYS[1], 'bal', ARGV[2], 'held', fmt(held), 'cred', ARGV[3], 'used', ARGV[4], 'seq', ARGV[5])
return {'done', fmt(held)}
`;
