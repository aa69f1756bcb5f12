// The Redis store (Redis ≥ 6.2, Valkey, ElastiCache / MemoryDB with cluster mode off): several
// `trailmint serve` replicas on one queue share one state. Same Store contract as KvStore, same
// merge rules (set union, min/max/sum, bounded resource samples), done inside Redis by Lua.
//
// Layout (P = the key prefix, `?prefix=` of the URL, default "trailmint:"):
//   global, hash tag {g} (one slot):
//     P{g}:meta        hash  format, catalog (iam-data version), epoch, nextPid, seq (commits)
//     P{g}:names       list  action id → "prefix:Action"     the global id table; only appended
//     P{g}:ids         hash  "prefix:Action" → action id      (its inverse, for appends)
//     P{g}:principals  hash  ARN → pid
//     P{g}:unmapped    hash  "source\0name" → count ;  P{g}:unknown  set of action names
//     P{g}:o:<object>  string version tag of an ingested object (skip on replay); EX retention
//   per principal, hash tag {p:<pid>} (one slot per principal):
//     P{p:N}:m         hash  arn, f / l (first / last day), u (all-time used set), n (|u|),
//                           v (seq of the last commit touching it: Store.version)
//     P{p:N}:a         hash  global action id → principal-local id (the n-th action it used is n)
//     P{p:N}:d:<b>     hash  the day sets of days 32b … 32b+31: field o = used on day 32b+o,
//                           field 32+o = denied; values idset.ts bytes over principal-local ids
//     P{p:N}:u         hash  global action id → [first, last, count, denied, deniedLast,
//                           deniedCode] TAB [resource sample] (two JSON texts: a merge that
//                           leaves the sample as it was copies it without re-encoding)
//     P{p:N}:r:<b>     hash  day offset → [[role, service, lastSeen], …] (inferred PassRole)
//
// Encoding, chosen by bench/redis.ts (bytes per principal-day by MEMORY USAGE, merges/s): a key
// per principal-day costs ~60-90 bytes of key and object overhead whatever its value (bitmap
// string, intset), so the day sets of one principal are grouped 32 days to a hash, which Redis
// keeps as a listpack (no per-field overhead) while values stay ≤ 64 bytes: a principal-day is
// the idset bytes (a dozen) plus a few bytes of listpack entry. Merges run in Lua over the same
// idset encoding as LMDB, so both backends store the same bytes per day.
//
// Concurrency: every write is one Lua script, atomic on the server.
// - commit is ONE script per batch: it first checks that no object of the batch is ingested
//   (else it writes nothing and names them; we drop those and run it again), computes every new
//   value, then writes all of them and marks the objects. A file delivered to two replicas is
//   therefore merged exactly once: whichever script runs second finds it ingested. A replica
//   dying mid-commit leaves nothing (the script never ran) or everything (it did): the message
//   comes back and is skipped. A reply lost to a timeout or a dropped connection is the same
//   case (the consumer retries, the retry skips). Counts (the one non-idempotent merge) are
//   thus exact, as long as the object's mark lives (retentionDays: SQS keeps a message 14 days
//   at most). Nothing is written before the script has read and validated everything, so a
//   corrupt value fails the commit without half-applying it. A commit is as durable as the
//   server makes it (AOF and its fsync policy, replication): the message is deleted once the
//   script has returned.
// - action ids and pids are appended by scripts (look up, else RPUSH / HINCRBY + HSET), so two
//   replicas appending at once never assign one id twice; ids never change, so each replica
//   mirrors them in memory. Principal-local ids are assigned the same way inside commit.
// - epoch: a random id in P{g}:meta. If Redis loses its data (a restart without persistence,
//   FLUSHDB), commits and reads see another epoch and drop every mirror before going on, so
//   cached ids never point into a different table.
// - Redis Cluster: keys carry hash tags so each principal's keys share a slot and the global
//   keys share another; the commit script spans slots, so this module needs a single shard
//   (a standalone server, a primary endpoint, cluster mode off). Cluster mode would split the
//   script per slot, and lose exactly-once: counts of a file could be merged twice after a crash.
//
// Retention: a day-set hash expires (EXPIREAT) when its last day is `retentionDays` old, and
// reads ignore days older than that, so answers are as if each day expired on its own; days
// already past the horizon are not written. Pass-role hashes likewise; object marks expire
// after retentionDays. All-time detail (first/last seen, counts, samples) does not expire.
//
// Unavailable Redis: no offline queue and no resend, so every call while disconnected rejects
// at once with RedisStoreError STORE_UNAVAILABLE (the consumer then leaves its messages for a
// retry); a call the server does not answer rejects after commandTimeoutMs; the client keeps
// reconnecting in the background (backoff up to 2 s) and the next call after that works.
import { isProfileArn } from '../catalog/passrole.ts';
import { randomInt, randomUUID } from 'node:crypto';
import { Redis, type ChainableCommander, type RedisOptions } from 'ioredis';
import { UsageError } from '../errors.ts';
import { dayToIso, MS_PER_DAY, type Day, type FileDelta } from './delta.ts';
import { bitmapIds, orInto } from './idset.ts';
import { compareVersions } from './kvstore.ts';
import { mergeSample } from './sample.ts';
import type {
  ActionDetail,
  CommitEntry,
  CommitResult,
  ObjectRef,
  PassRoleDetail,
  PrincipalSummary,
  Store,
  UnmappedCount,
  WindowActions,
} from './store.ts';

/** Bumped when the layout changes; a store written with a newer format refuses to open. */
export const REDIS_FORMAT = 1;
export const DEFAULT_PREFIX = 'trailmint:';
export const DEFAULT_RETENTION_DAYS = 400;

/** Days per day-set hash; fields 0-31 used, 32-63 denied. */
export const BUCKET_DAYS = 32;
const DAY_LIMIT = 2 ** 17; // as KvStore: days up to 2328-11-26
/** names / ARNs per append script call: keeps each script short on a busy server */
const APPEND_CHUNK = 2000;
/** a window wider than this many buckets first reads the principal's first/last day */
const WIDE_WINDOW_BUCKETS = 16;
/** principals whose local id table is mirrored; the mirror is dropped when it grows past this */
const LOCALS_CACHE = 50_000;

export interface RedisConnection {
  options: RedisOptions;
  prefix: string;
  /** the URL without credentials, for messages */
  label: string;
}

export interface RedisStoreOptions {
  /** resource ARNs kept per (principal, action) before generalizing; default 16 */
  maxResourcesPerAction?: number;
  /** day sets older than this many days expire; default 400 */
  retentionDays?: number;
  /** as KvStore: a fresh store's ids follow the catalog, an upgraded catalog only appends */
  catalog?: { version: string; ids(): readonly string[] };
}

const URL_PARAMS = ['prefix', 'commandTimeoutMs', 'connectTimeoutMs'] as const;

/**
 * `redis://[user:password@]host[:port][/db][?prefix=P&commandTimeoutMs=N&connectTimeoutMs=N]`,
 * `rediss://` for TLS (certificates checked; extra CAs via NODE_EXTRA_CA_CERTS). The password
 * may come from `password` (TRAILMINT_REDIS_PASSWORD) instead of the URL.
 */
export function parseRedisUrl(url: string, password?: string): RedisConnection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError('BAD_STORE', `not a Redis URL: "${url.replace(/\/\/[^@/]*@/, '//***@')}"`);
  }
  const bad = (why: string) => new UsageError('BAD_STORE', `Redis store URL: ${why}`);
  const tls = u.protocol === 'rediss:';
  if (!tls && u.protocol !== 'redis:') throw bad(`unknown scheme ${u.protocol}`);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw bad('no host');
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  if (!/^\d{0,5}$/.test(dbText)) throw bad(`the path must be a database number, got "/${dbText}"`);
  const db = dbText === '' ? 0 : Number(dbText);
  for (const key of u.searchParams.keys()) {
    if (!(URL_PARAMS as readonly string[]).includes(key)) {
      throw bad(`unknown parameter "${key}" (known: ${URL_PARAMS.join(', ')})`);
    }
  }
  const prefix = u.searchParams.get('prefix') ?? DEFAULT_PREFIX;
  if (/[{}]/.test(prefix))
    throw bad(`the prefix must not contain { or } (hash tags), got "${prefix}"`);
  const ms = (name: string, dflt: number) => {
    const v = u.searchParams.get(name);
    if (v === null) return dflt;
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 3_600_000)
      throw bad(`${name} must be a whole number of milliseconds from 1 to 3600000, got "${v}"`);
    return Number(v);
  };
  const options: RedisOptions = {
    host,
    port,
    db,
    username: u.username === '' ? undefined : decodeURIComponent(u.username),
    password: u.password === '' ? password || undefined : decodeURIComponent(u.password),
    tls: tls ? { servername: host } : undefined,
    commandTimeout: ms('commandTimeoutMs', 10_000),
    connectTimeout: ms('connectTimeoutMs', 10_000),
  };
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const label =
    `${u.protocol}//${shownHost}:${port}/${db}` +
    (prefix === DEFAULT_PREFIX ? '' : `?prefix=${encodeURIComponent(prefix)}`);
  return { options, prefix, label };
}

/** A Redis failure, as data the caller acts on: STORE_UNAVAILABLE means retry later. */
export class RedisStoreError extends Error {
  readonly code: 'STORE_UNAVAILABLE' | 'STORE_FAILED';
  constructor(code: RedisStoreError['code'], message: string, cause: unknown) {
    super(message, { cause });
    this.name = 'RedisStoreError';
    this.code = code;
  }
}

/** Redis lost its data under us (another epoch): mirrors are dropped and the call redone. */
class EpochChanged extends Error {}

// ---------------------------------------------------------------------------------------------
// Lua. Shared helpers first: the idset.ts encoding (0x01 + varint gaps | 0x02 + bitmap) and the
// sample.ts resource sample, ported, and checked against the originals by property tests
// (test/unit/store-redis.test.ts). Strings compare bytewise, which for text in the Basic
// Multilingual Plane is JavaScript's UTF-16 order; common prefixes are measured in UTF-16 units
// as sample.ts does, and never end inside a UTF-8 sequence (the one divergence: a JavaScript
// prefix may split a surrogate pair, ours stops before the character).

export const LUA_IDSET = `
local band, bor, lshift = bit.band, bit.bor, bit.lshift
local byte, char, sub, floor = string.byte, string.char, string.sub, math.floor
local CHUNK = 1000

local function chars(t, n)
  local out = {}
  for i = 1, n, CHUNK do out[#out + 1] = char(unpack(t, i, math.min(i + CHUNK - 1, n))) end
  return table.concat(out)
end

-- Sets are handled as bitmaps, t[i] = byte i-1 (ids 8(i-1) … 8(i-1)+7): no hash sets, no sort.
local POP = { [0] = 0 } -- bits set per byte; built per script call, so kept cheap
for b = 1, 255 do POP[b] = POP[floor(b / 2)] + b % 2 end

local function bitmapOf(s)
  local n = #s
  if n == 0 then return {} end
  local tag = byte(s, 1)
  if tag == 2 then
    if n <= CHUNK then return { byte(s, 2, n) } end
    local t = {}
    for i = 2, n do t[i - 1] = byte(s, i) end
    return t
  end
  if tag ~= 1 then error('corrupt id set: tag ' .. tostring(tag)) end
  local t, len, prev, at = {}, 0, -1, 2
  while at <= n do
    local v, mul, b = 0, 1, 128
    while b >= 128 do
      if at > n then error('corrupt id set: truncated') end
      b = byte(s, at)
      at = at + 1
      v = v + band(b, 127) * mul
      mul = mul * 128
    end
    prev = prev + v + 1
    local j = floor(prev / 8) + 1
    for k = len + 1, j do t[k] = 0 end
    if j > len then len = j end
    t[j] = bor(t[j], lshift(1, prev % 8))
  end
  return t
end

local function varintLen(v)
  if v < 128 then return 1 elseif v < 16384 then return 2 elseif v < 2097152 then return 3
  elseif v < 268435456 then return 4 else return 5 end
end

-- Encodes a bitmap as idset.ts does: dense unless the varint gaps are strictly smaller.
local function encodeBitmap(t)
  local len, count = #t, 0
  while len > 0 and t[len] == 0 do len = len - 1 end
  if len == 0 then return '', 0 end
  for i = 1, len do count = count + POP[t[i]] end
  local dense = 1 + len
  if 1 + count < dense then -- each gap takes a byte at least: only then can sparse be smaller
    local sparse, prev = 1, -1
    for i = 1, len do
      local b = t[i]
      if b ~= 0 then
        for j = 0, 7 do
          if band(b, lshift(1, j)) ~= 0 then
            local id = (i - 1) * 8 + j
            sparse = sparse + varintLen(id - prev - 1)
            prev = id
          end
        end
        if sparse >= dense then break end
      end
    end
    if sparse < dense then
      local out = { 1 }
      prev = -1
      for i = 1, len do
        local b = t[i]
        if b ~= 0 then
          for j = 0, 7 do
            if band(b, lshift(1, j)) ~= 0 then
              local id = (i - 1) * 8 + j
              local v = id - prev - 1
              prev = id
              while v >= 128 do
                out[#out + 1] = bor(band(v, 127), 128)
                v = floor(v / 128)
              end
              out[#out + 1] = v
            end
          end
        end
      end
      return chars(out, #out), count
    end
  end
  return char(2) .. chars(t, len), count
end

-- Encodes sorted unique ids (as encodeIds).
local function encodeIds(ids)
  local t = {}
  for _, id in ipairs(ids) do
    local j = floor(id / 8) + 1
    for k = #t + 1, j do t[k] = 0 end
    t[j] = bor(t[j], lshift(1, id % 8))
  end
  return (encodeBitmap(t))
end

-- Ids of a sparse encoding, ascending.
local function sparseIds(s)
  local out, prev, at, n = {}, -1, 2, #s
  while at <= n do
    local v, mul, b = 0, 1, 128
    while b >= 128 do
      if at > n then error('corrupt id set: truncated') end
      b = byte(s, at)
      at = at + 1
      v = v + band(b, 127) * mul
      mul = mul * 128
    end
    prev = prev + v + 1
    out[#out + 1] = prev
  end
  return out
end

-- encoded ∪ ids → encoded, changed, size (size only when changed). A dense set is ORed as a
-- bitmap; a sparse one (few ids spread over a wide range: 5 of an admin's 2,000 actions) as a
-- sorted list, without expanding it to a bitmap of its whole range.
local function unionIds(encoded, ids)
  if #encoded > 0 and byte(encoded, 1) == 2 then
    local t = bitmapOf(encoded)
    local len, changed = #t, false
    for i = 1, #ids do
      local id = ids[i]
      local j = floor(id / 8) + 1
      if j > len then
        for k = len + 1, j do t[k] = 0 end
        len = j
      end
      local m, v = lshift(1, id % 8), t[j]
      if band(v, m) == 0 then
        t[j] = v + m
        changed = true
      end
    end
    if not changed then return encoded, false end
    local out, size = encodeBitmap(t)
    return out, true, size
  end
  if #encoded > 0 and byte(encoded, 1) ~= 1 then error('corrupt id set: tag ' .. byte(encoded, 1)) end
  local old = sparseIds(encoded)
  local new = {}
  for i = 1, #ids do new[i] = ids[i] end
  table.sort(new)
  local list, a, b = {}, 1, 1
  while a <= #old or b <= #new do
    local x, y = old[a], new[b]
    if y == nil or (x ~= nil and x < y) then
      list[#list + 1] = x
      a = a + 1
    elseif x == nil or y < x then
      list[#list + 1] = y
      b = b + 1
    else
      list[#list + 1] = x
      a, b = a + 1, b + 1
    end
  end
  if #list == #old then return encoded, false end
  -- as encodeIds: dense unless the gaps are strictly smaller
  local dense = 1 + floor(list[#list] / 8) + 1
  local sparse, prev = 1, -1
  for i = 1, #list do
    sparse = sparse + varintLen(list[i] - prev - 1)
    prev = list[i]
    if sparse >= dense then return encodeIds(list), true, #list end
  end
  local out = { 1 }
  prev = -1
  for i = 1, #list do
    local v = list[i] - prev - 1
    prev = list[i]
    while v >= 128 do
      out[#out + 1] = bor(band(v, 127), 128)
      v = floor(v / 128)
    end
    out[#out + 1] = v
  end
  return chars(out, #out), true, #list
end
`;

export const LUA_SAMPLE = `
local function bytewiseLt(a, b)
  if a == b then return false end
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = byte(a, i), byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
-- Lua's < is strcoll: bytewise under the C / POSIX / C.UTF-8 collation most servers run with,
-- and then ~10× faster than the loop above; natural-language collations fail this probe.
local lt = bytewiseLt
if ('B' < 'a') and ('Z' < '_') and ('_' < 'a') and ('-' < '.') and ('a-b' < 'a_b')
  and ('z' < '\\195\\169') and ('ab' < 'a\\195') and not ('a' < 'A') then
  lt = function(a, b) return a < b end
end

local function mergeSorted(a, b)
  local out, i, j = {}, 1, 1
  while i <= #a and j <= #b do
    if lt(b[j], a[i]) then
      out[#out + 1] = b[j]
      j = j + 1
    else
      out[#out + 1] = a[i]
      i = i + 1
    end
  end
  for k = i, #a do out[#out + 1] = a[k] end
  for k = j, #b do out[#out + 1] = b[k] end
  return out
end

local function isPattern(s) return byte(s, #s) == 42 end

local function covers(p, arn)
  if p == arn then return true end
  return isPattern(p) and sub(arn, 1, #p - 1) == sub(p, 1, #p - 1)
end

local function isNormalized(list)
  local patterns = false
  for i = 1, #list do
    if i > 1 and not lt(list[i - 1], list[i]) then return false end
    if isPattern(list[i]) then patterns = true end
  end
  if not patterns then return true end
  for _, p in ipairs(list) do
    if isPattern(p) then
      for _, x in ipairs(list) do
        if x ~= p and covers(p, x) then return false end
      end
    end
  end
  return true
end

local function coveredBy(list, arn)
  for _, p in ipairs(list) do
    if p == arn or covers(p, arn) then return true end
  end
  return false
end

-- Common prefix of a and b: its length in bytes (to cut) and in UTF-16 units (to compare, as
-- sample.ts does: the longest prefix must win by the same measure on both backends).
local function commonPrefix(a, b)
  local n, i = math.min(#a, #b), 0
  while i < n and byte(a, i + 1) == byte(b, i + 1) do i = i + 1 end
  -- never end inside a UTF-8 sequence
  while i > 0 do
    local x, y = byte(a, i + 1), byte(b, i + 1)
    if (x and x >= 128 and x < 192) or (y and y >= 128 and y < 192) then i = i - 1 else break end
  end
  -- never keep a pattern's trailing * inside the prefix: it would become a literal
  if i > 0 and (byte(a, i) == 42 or byte(b, i) == 42) then i = i - 1 end
  local units = 0
  for j = 1, i do
    local c = byte(a, j)
    if c < 128 or c >= 192 then units = units + 1 end
    if c >= 240 then units = units + 1 end -- outside the BMP: a surrogate pair
  end
  return i, units
end

-- Folds the adjacent pair with the longest common prefix into prefix*; nil when only * is left.
local function foldClosest(list)
  local best, bestLen, bestUnits = 1, 0, -1
  for i = 1, #list - 1 do
    local n, units = commonPrefix(list[i], list[i + 1])
    if units > bestUnits then best, bestLen, bestUnits = i, n, units end
  end
  if bestLen <= 0 then return nil end
  local prefix = sub(list[best], 1, bestLen)
  local lo, hi = best, best + 1
  while lo > 1 and sub(list[lo - 1], 1, bestLen) == prefix do lo = lo - 1 end
  while hi < #list and sub(list[hi + 1], 1, bestLen) == prefix do hi = hi + 1 end
  local out = {}
  for i = 1, lo - 1 do out[#out + 1] = list[i] end
  out[#out + 1] = prefix .. '*'
  for i = hi + 1, #list do out[#out + 1] = list[i] end
  return out
end

-- sample.ts mergeSample: union of a and b generalized to at most max entries, sorted; the second
-- result says it is \`a\` itself. \`trusted\`: a is known normalized (a stored sample: we only
-- ever store mergeSample results), which skips the check.
local function mergeSample(a, b, max, trusted)
  if max >= 1 and #a <= max and (trusted or isNormalized(a)) then
    if #b == 0 then return a, true end
    local has, patterns = {}, false
    for _, s in ipairs(a) do
      has[s] = true
      if isPattern(s) then patterns = true end
    end
    local all = true
    for _, x in ipairs(b) do
      if not has[x] and not (patterns and coveredBy(a, x)) then
        all = false
        break
      end
    end
    if all then return a, true end
  end
  local seen, list = {}, {}
  if trusted then -- a is sorted and unique: sort the few newcomers and merge them in
    for _, x in ipairs(a) do seen[x] = true end
    local extra = {}
    for _, x in ipairs(b) do
      if not seen[x] then
        seen[x] = true
        extra[#extra + 1] = x
      end
    end
    if seen['*'] or max < 1 then return { '*' }, false end
    table.sort(extra, lt)
    list = mergeSorted(a, extra)
  else
    for _, t in ipairs({ a, b }) do
      for _, x in ipairs(t) do
        if not seen[x] then
          seen[x] = true
          list[#list + 1] = x
        end
      end
    end
    if seen['*'] or max < 1 then return { '*' }, false end
    table.sort(list, lt)
  end
  -- drop what a pattern covers, patterns in order, a dropped one dropping nothing more (of
  -- q* and q**, which cover each other, q* stays), as sample.ts dropCovered does
  local dropped, any = {}, false
  for i, p in ipairs(list) do
    if isPattern(p) and not dropped[i] then
      for j, s in ipairs(list) do
        if j ~= i and covers(p, s) then
          dropped[j] = true
          any = true
        end
      end
    end
  end
  if any then
    local kept = {}
    for i, s in ipairs(list) do if not dropped[i] then kept[#kept + 1] = s end end
    list = kept
  end
  while #list > max do
    list = foldClosest(list)
    if list == nil then return { '*' } end
  end
  return list
end

-- cjson escapes every / as \\/ (ARNs are full of them); undoing that is safe because a
-- backslash of the input comes out doubled, so every \\/ left to right is an escaped slash.
local function jstr(s)
  if s == '' then return '""' end -- most records: never denied
  return (string.gsub(cjson.encode(s), '\\\\/', '/'))
end
local function jlist(list)
  if #list == 0 then return '[]' end
  return (string.gsub(cjson.encode(list), '\\\\/', '/'))
end
local function int(x) return string.format('%d', x) end
`;

// KEYS: none (dynamic, single shard). ARGV[1]: JSON payload (see RedisStore.payload).
// Reply: {1} merged; {0, i…} objects i (1-based) already ingested, nothing written; {-1} epoch.
const LUA_COMMIT =
  LUA_IDSET +
  LUA_SAMPLE +
  `
local pl = cjson.decode(ARGV[1])
local pre = pl.pre
local G = pre .. '{g}:'
if redis.call('HGET', G .. 'meta', 'epoch') ~= pl.e then return { -1 } end

local conflicts = { 0 }
for i, o in ipairs(pl.o) do
  if redis.call('GET', G .. 'o:' .. o[1]) == o[2] then conflicts[#conflicts + 1] = i end
end
if #conflicts > 1 then return conflicts end

local ret, maxRes = pl.r, pl.x
local seq = int((tonumber(redis.call('HGET', G .. 'meta', 'seq')) or 0) + 1)
local writes = { { 'HSET', G .. 'meta', 'seq', seq } }
local function w(...) writes[#writes + 1] = { ... } end
-- HSET key f1 v1 f2 v2 … in bounded pieces (unpack is limited)
local function hsetAll(key, fv)
  for i = 1, #fv, 2 * CHUNK do
    local part = { 'HSET', key }
    for j = i, math.min(i + 2 * CHUNK - 1, #fv) do part[#part + 1] = fv[j] end
    writes[#writes + 1] = part
  end
end
local function hmget(key, fields)
  local out = {}
  for i = 1, #fields, CHUNK do
    local got = redis.call('HMGET', key, unpack(fields, i, math.min(i + CHUNK - 1, #fields)))
    for j = 1, #got do out[#out + 1] = got[j] end
  end
  return out
end
local function bucketExpiry(b) return int(((b + 1) * 32 + ret) * 86400) end

for _, pp in ipairs(pl.p) do
  local pid, arn, first, last, used, days, uses, roles =
    pp[1], pp[2], pp[3], pp[4], pp[5], pp[6], pp[7], pp[8]
  local P = pre .. '{p:' .. int(pid) .. '}:'
  w('HSET', P .. 'm', 'v', seq)

  -- principal-local ids, appended in order of first need
  local need, list = {}, {}
  local function want(g)
    if not need[g] then
      need[g] = true
      list[#list + 1] = g
    end
  end
  for _, g in ipairs(used) do want(g) end
  for _, d in ipairs(days) do
    for _, g in ipairs(d[2]) do want(g) end
    for _, g in ipairs(d[3]) do want(g) end
  end
  local loc = {}
  if #list > 0 then
    local fields = {}
    for i, g in ipairs(list) do fields[i] = int(g) end
    local got = hmget(P .. 'a', fields)
    local nextLocal = redis.call('HLEN', P .. 'a')
    local assign = {}
    for i, g in ipairs(list) do
      if got[i] then
        loc[g] = tonumber(got[i])
      else
        loc[g] = nextLocal
        assign[#assign + 1] = fields[i]
        assign[#assign + 1] = int(nextLocal)
        nextLocal = nextLocal + 1
      end
    end
    if #assign > 0 then hsetAll(P .. 'a', assign) end
  end
  local function locals(gids)
    local out = {}
    for i, g in ipairs(gids) do out[i] = loc[g] end
    return out
  end

  -- meta: first / last day, all-time used set
  local m = redis.call('HMGET', P .. 'm', 'f', 'l', 'u')
  local mf, ml = tonumber(m[1]), tonumber(m[2])
  if first >= 0 then
    local fv = {}
    if mf == nil then fv = { 'arn', arn } end
    if mf == nil or first < mf then
      fv[#fv + 1] = 'f'
      fv[#fv + 1] = int(first)
    end
    if ml == nil or last > ml then
      fv[#fv + 1] = 'l'
      fv[#fv + 1] = int(last)
    end
    local u, changed, size = unionIds(m[3] or '', locals(used))
    if changed then
      fv[#fv + 1] = 'u'
      fv[#fv + 1] = u
      fv[#fv + 1] = 'n'
      fv[#fv + 1] = int(size)
    end
    if #fv > 0 then hsetAll(P .. 'm', fv) end
  end

  -- day sets: union into the bucket hash, which expires with its last day
  local touched = {}
  for _, d in ipairs(days) do
    local b = floor(d[1] / 32)
    local key = P .. 'd:' .. int(b)
    for k = 2, 3 do
      if #d[k] > 0 then
        local field = int(d[1] - b * 32 + (k == 3 and 32 or 0))
        local v, changed = unionIds(redis.call('HGET', key, field) or '', locals(d[k]))
        if changed then
          w('HSET', key, field, v)
          touched[key] = b
        end
      end
    end
  end
  for key, b in pairs(touched) do w('EXPIREAT', key, bucketExpiry(b)) end

  -- per-action detail: min / max / sum, latest denial, resource sample
  if #uses > 0 then
    local fields = {}
    for i, u in ipairs(uses) do fields[i] = int(u[1]) end
    local old = hmget(P .. 'u', fields)
    local fv = {}
    for i, u in ipairs(uses) do
      local f, l, c, dc, dl, dd, res = u[2], u[3], u[4], u[5], u[6], u[7], u[8]
      local list
      if old[i] then
        local tab = string.find(old[i], '\t', 1, true)
        local o = cjson.decode(sub(old[i], 1, tab - 1))
        if o[1] ~= 0 and (f == 0 or o[1] < f) then f = o[1] end
        if o[2] > l then l = o[2] end
        c, dc = o[3] + c, o[4] + dc
        if not (dl > o[5] or (dl == o[5] and lt(o[6], dd))) then dl, dd = o[5], o[6] end
        list = sub(old[i], tab + 1)
        if #res > 0 then
          local merged, same = mergeSample(cjson.decode(list), res, maxRes, true)
          if not same then list = jlist(merged) end
        end
      else
        list = jlist(mergeSample(res, {}, maxRes))
      end
      fv[#fv + 1] = fields[i]
      fv[#fv + 1] = '[' .. int(f) .. ',' .. int(l) .. ',' .. int(c) .. ',' .. int(dc) .. ',' ..
        int(dl) .. ',' .. jstr(dd) .. ']\t' .. list
    end
    hsetAll(P .. 'u', fv)
  end

  -- inferred PassRole per day: (role, service) → latest
  touched = {}
  for _, r in ipairs(roles) do
    local b = floor(r[1] / 32)
    local key = P .. 'r:' .. int(b)
    local field = int(r[1] - b * 32)
    local old = redis.call('HGET', key, field)
    local list = old and cjson.decode(old) or {}
    local changed = false
    for _, n in ipairs(r[2]) do
      local hit = false
      for _, e in ipairs(list) do
        if e[1] == n[1] and e[2] == n[2] then
          hit = true
          if n[3] > e[3] then
            e[3] = n[3]
            changed = true
          end
        end
      end
      if not hit then
        list[#list + 1] = n
        changed = true
      end
    end
    if changed then
      local parts = {}
      for i, e in ipairs(list) do parts[i] = '[' .. jstr(e[1]) .. ',' .. jstr(e[2]) .. ',' .. int(e[3]) .. ']' end
      w('HSET', key, field, '[' .. table.concat(parts, ',') .. ']')
      touched[key] = b
    end
  end
  for key, b in pairs(touched) do w('EXPIREAT', key, bucketExpiry(b)) end
end

for _, u in ipairs(pl.m) do w('HINCRBY', G .. 'unmapped', u[1] .. '\\0' .. u[2], int(u[3])) end
for i = 1, #pl.k, CHUNK do
  local part = { 'SADD', G .. 'unknown' }
  for j = i, math.min(i + CHUNK - 1, #pl.k) do part[#part + 1] = pl.k[j] end
  writes[#writes + 1] = part
end
for _, o in ipairs(pl.o) do w('SET', G .. 'o:' .. o[1], o[2], 'EX', int(pl.t)) end

-- everything is computed: now write
for _, c in ipairs(writes) do redis.call(unpack(c)) end
return { 1 }
`;

// KEYS[1] names list, KEYS[2] ids hash; ARGV: names. Reply: their ids.
const LUA_APPEND_ACTIONS = `
local out = {}
for i = 1, #ARGV do
  local id = redis.call('HGET', KEYS[2], ARGV[i])
  if not id then
    id = redis.call('RPUSH', KEYS[1], ARGV[i]) - 1
    redis.call('HSET', KEYS[2], ARGV[i], id)
  end
  out[i] = tonumber(id)
end
return out
`;

// KEYS[1] principals hash, KEYS[2] meta hash; ARGV: ARNs. Reply: their pids.
const LUA_PRINCIPAL_IDS = `
local out = {}
for i = 1, #ARGV do
  local pid = redis.call('HGET', KEYS[1], ARGV[i])
  if not pid then
    pid = redis.call('HINCRBY', KEYS[2], 'nextPid', 1) - 1
    redis.call('HSET', KEYS[1], ARGV[i], pid)
  end
  out[i] = tonumber(pid)
end
return out
`;

interface Scripts {
  tmCommit(payload: string): Promise<number[]>;
  tmAppendActions(names: string, ids: string, ...args: string[]): Promise<number[]>;
  tmPrincipalIds(principals: string, meta: string, ...args: string[]): Promise<number[]>;
}

// ---------------------------------------------------------------------------------------------
// The commit payload: the batch pre-merged per principal (a busy principal-day that 200 files of
// the batch touch is one union in Lua, not 200), with global action ids and pids.

type UseRow = [
  gid: number,
  first: number,
  last: number,
  count: number,
  denied: number,
  deniedLast: number,
  deniedCode: string,
  resources: string[],
];
/** the head of a P{p:N}:u value */
type StoredUse = [
  first: number,
  last: number,
  count: number,
  denied: number,
  deniedLast: number,
  deniedCode: string,
];
type RoleRow = [role: string, service: string, lastSeen: number];
type PrincipalRow = [
  pid: number,
  arn: string,
  first: Day, // -1: no day in the batch
  last: Day,
  used: number[], // gids used on any day of the batch (also days past retention)
  days: [day: Day, used: number[], denied: number[]][], // retained days only
  uses: UseRow[],
  roles: [day: Day, roles: RoleRow[]][],
];

interface Payload {
  pre: string;
  e: string;
  /** retention, days */
  r: number;
  /** object marks' TTL, seconds */
  t: number;
  x: number;
  o: [key: string, tag: string][];
  p: PrincipalRow[];
  m: [source: string, name: string, count: number][];
  k: string[];
}

class PrincipalAcc {
  first = Infinity;
  last = -Infinity;
  readonly used = new Set<number>();
  readonly days = new Map<Day, [Set<number>, Set<number>]>();
  readonly uses = new Map<number, UseRow>();
  readonly roles = new Map<Day, Map<string, RoleRow>>();

  see(day: Day): void {
    if (day < this.first) this.first = day;
    if (day > this.last) this.last = day;
  }
}

const ascending = (s: Set<number>) => Array.from(s).sort((a, b) => a - b);

function minTime(a: number, b: number): number {
  if (a === 0) return b;
  if (b === 0) return a;
  return Math.min(a, b);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Throws (before anything is written) on a delta whose indexes or days are out of range. */
function validate(delta: FileDelta): void {
  const np = delta.principals.length;
  const na = delta.actions.length;
  const bad = (what: string): never => {
    throw new RangeError(`malformed delta: ${what}`);
  };
  const index = (i: number, n: number) => Number.isInteger(i) && i >= 0 && i < n;
  const day = (d: number) => Number.isInteger(d) && d >= 0 && d < DAY_LIMIT;
  for (const d of delta.days) {
    if (!index(d.p, np) || !day(d.day)) bad(`day set (${d.p}, ${d.day})`);
    if (!d.used.every((a) => index(a, na)) || !d.denied.every((a) => index(a, na)))
      bad('action index out of range');
  }
  for (const u of delta.uses) if (!index(u.p, np) || !index(u.a, na)) bad(`use (${u.p}, ${u.a})`);
  for (const pr of delta.passRoles)
    if (!index(pr.p, np) || !day(pr.day)) bad(`pass role (${pr.p}, ${pr.day})`);
}

// ---------------------------------------------------------------------------------------------

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  private readonly redis: Redis & Scripts;
  private readonly label: string;
  private readonly pre: string;
  private readonly g: string;
  private readonly maxResources: number;
  private readonly retentionDays: number;
  private readonly catalog: RedisStoreOptions['catalog'];
  /** the global id table, mirrored (a prefix of it: others append) */
  private readonly names: string[] = [];
  private readonly ids = new Map<string, number>();
  private readonly pids = new Map<string, number>();
  /** pid → principal-local id → global id (a prefix of the stored table) */
  private readonly locals = new Map<number, number[]>();
  private epoch = '';
  /** mirror updates run one at a time */
  private mirrorLock: Promise<unknown> = Promise.resolve();
  private resetting: Promise<void> | undefined;
  private lastError: Error | undefined;

  private constructor(redis: Redis, conn: RedisConnection, opts: RedisStoreOptions) {
    this.redis = redis as Redis & Scripts;
    this.label = conn.label;
    this.pre = conn.prefix;
    this.g = conn.prefix + '{g}:';
    this.maxResources = opts.maxResourcesPerAction ?? 16;
    this.retentionDays = opts.retentionDays ?? DEFAULT_RETENTION_DAYS;
    this.catalog = opts.catalog;
    redis.on('error', (err: Error) => (this.lastError = err));
    redis.defineCommand('tmCommit', { numberOfKeys: 0, lua: LUA_COMMIT });
    redis.defineCommand('tmAppendActions', { numberOfKeys: 2, lua: LUA_APPEND_ACTIONS });
    redis.defineCommand('tmPrincipalIds', { numberOfKeys: 2, lua: LUA_PRINCIPAL_IDS });
  }

  static async open(conn: RedisConnection, opts: RedisStoreOptions = {}): Promise<RedisStore> {
    const retention = opts.retentionDays ?? DEFAULT_RETENTION_DAYS;
    if (!Number.isSafeInteger(retention) || retention < 1 || retention > 36_500) {
      throw new UsageError(
        'BAD_STORE',
        `the retention (TRAILMINT_RETENTION_DAYS) must be a whole number of days from 1 to 36500, got ${retention}`,
      );
    }
    const redis = new Redis({
      ...conn.options,
      lazyConnect: true,
      // Fail fast while disconnected instead of queueing: the caller (the SQS consumer) has
      // the retry policy, and a queue would grow without bound during an outage.
      enableOfflineQueue: false,
      // A command in flight when the connection drops is rejected, not resent: the caller
      // retries, and a commit that did reach Redis is then skipped as already ingested.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
      // After a failover the old primary answers READONLY: reconnect to the new one.
      reconnectOnError: (err) => err.message.startsWith('READONLY'),
      connectionName: 'trailmint',
    });
    const store = new RedisStore(redis, conn, opts);
    try {
      await redis.connect();
    } catch (err) {
      redis.disconnect();
      throw new UsageError(
        'STORE_OPEN_FAILED',
        `cannot open the Redis store at ${conn.label}: ${(store.lastError ?? (err as Error)).message}`,
      );
    }
    try {
      await store.init();
    } catch (err) {
      redis.disconnect();
      throw err instanceof UsageError ? err : store.wrap(err);
    }
    return store;
  }

  private async init(): Promise<void> {
    const meta = this.g + 'meta';
    const [format, stored] = await this.redis.hmget(meta, 'format', 'catalog');
    if (format !== null && Number(format) > REDIS_FORMAT) {
      throw new UsageError(
        'STORE_TOO_NEW',
        `the Redis store ${this.label} was written by a newer trailmint (store format ${format}, ` +
          `this version reads up to ${REDIS_FORMAT}); upgrade trailmint or use another prefix`,
      );
    }
    const catalog = this.catalog;
    if (catalog && stored !== null && compareVersions(stored, catalog.version) > 0) {
      throw new UsageError(
        'STORE_CATALOG_TOO_NEW',
        `the store was written with a newer action catalog (iam-data ${stored}; this trailmint ` +
          `has ${catalog.version}): its newer actions would read as unknown; upgrade trailmint`,
      );
    }
    await this.redis.hsetnx(meta, 'format', REDIS_FORMAT);
    // Store.version numbers of a new epoch start far from the last one's
    await this.redis.hsetnx(meta, 'seq', randomInt(2 ** 30));
    await this.redis.hsetnx(meta, 'epoch', randomUUID());
    this.epoch = (await this.redis.hget(meta, 'epoch')) ?? '';
    await this.syncNames();
    if (catalog) {
      await this.actionIds(catalog.ids());
      // Raise the recorded version, never lower it (a rolling upgrade runs both versions).
      for (;;) {
        await this.redis.watch(meta);
        const now = await this.redis.hget(meta, 'catalog');
        if (now !== null && compareVersions(now, catalog.version) >= 0) {
          await this.redis.unwatch();
          break;
        }
        if (await this.redis.multi().hset(meta, 'catalog', catalog.version).exec()) break;
      }
    }
  }

  /** Runs a store call: Redis errors become RedisStoreError; a new epoch resets and redoes it. */
  private async op<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof EpochChanged)) throw this.wrap(err);
    }
    try {
      await this.reset();
      return await fn();
    } catch (err) {
      throw this.wrap(err);
    }
  }

  private wrap(err: unknown): Error {
    if (
      err instanceof RedisStoreError ||
      err instanceof UsageError ||
      err instanceof RangeError ||
      err instanceof EpochChanged
    ) {
      return err as Error;
    }
    const e = err as Error;
    const down =
      this.redis.status !== 'ready' ||
      e.name === 'MaxRetriesPerRequestError' ||
      /Stream isn't writeable|Connection is closed|timed out|ECONN|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND/.test(
        e.message,
      );
    if (down) {
      const why =
        e.message === 'Command timed out'
          ? 'Redis did not answer in time'
          : (this.lastError?.message ?? e.message);
      return new RedisStoreError(
        'STORE_UNAVAILABLE',
        `the Redis store ${this.label} is unavailable (${why}); reconnecting, try again later`,
        err,
      );
    }
    return new RedisStoreError('STORE_FAILED', `the Redis store ${this.label}: ${e.message}`, err);
  }

  /** Drops every mirror of ids (Redis lost its data) and reinitializes; one at a time. */
  private reset(): Promise<void> {
    this.resetting ??= this.locked(async () => {
      this.names.length = 0;
      this.ids.clear();
      this.pids.clear();
      this.locals.clear();
    })
      .then(() => this.init())
      .finally(() => (this.resetting = undefined));
    return this.resetting;
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mirrorLock.then(fn, fn);
    this.mirrorLock = run.catch(() => {});
    return run;
  }

  /** Appends to the names mirror whatever the stored table has beyond it. */
  private syncNames(): Promise<void> {
    return this.locked(async () => {
      const more = await this.redis.lrange(this.g + 'names', this.names.length, -1);
      for (const name of more) {
        this.ids.set(name, this.names.length);
        this.names.push(name);
      }
    });
  }

  /** A pipeline that also reads the epoch; throws EpochChanged when it moved, else the replies. */
  private async pipe(build: (p: ChainableCommander) => void): Promise<unknown[]> {
    const p = this.redis.pipeline();
    p.hget(this.g + 'meta', 'epoch');
    build(p);
    const replies = (await p.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    if (replies[0][1] !== this.epoch) throw new EpochChanged('the Redis store was reset');
    return replies.slice(1).map(([, v]) => v);
  }

  private profileKey(profile: string): string {
    return this.g + 'ip:' + profile;
  }

  private pkey(pid: number, name: string): string {
    return `${this.pre}{p:${pid}}:${name}`;
  }

  private horizon(): Day {
    return Math.floor(Date.now() / MS_PER_DAY) - this.retentionDays;
  }

  async actionNames(): Promise<readonly string[]> {
    await this.op(() => this.syncNames());
    return this.names;
  }

  actionIds(names: readonly string[]): Promise<Uint32Array> {
    return this.op(async () => {
      const missing = [...new Set(names.filter((n) => !this.ids.has(n)))];
      for (let i = 0; i < missing.length; i += APPEND_CHUNK) {
        await this.redis.tmAppendActions(
          this.g + 'names',
          this.g + 'ids',
          ...missing.slice(i, i + APPEND_CHUNK),
        );
      }
      if (missing.length > 0) await this.syncNames();
      return Uint32Array.from(names, (n) => this.ids.get(n)!);
    });
  }

  private async principalIds(arns: Iterable<string>): Promise<void> {
    const missing = [...new Set(arns)].filter((a) => !this.pids.has(a));
    for (let i = 0; i < missing.length; i += APPEND_CHUNK) {
      const chunk = missing.slice(i, i + APPEND_CHUNK);
      const got = await this.redis.tmPrincipalIds(this.g + 'principals', this.g + 'meta', ...chunk);
      chunk.forEach((arn, j) => this.pids.set(arn, got[j]));
    }
  }

  async commit(entries: readonly CommitEntry[]): Promise<CommitResult> {
    const result: CommitResult = { merged: 0, alreadyIngested: 0, alreadyIngestedKeys: [] };
    let todo: CommitEntry[] = [];
    const batch = new Map<string, string>();
    for (const e of entries) {
      if (batch.get(e.object.key) === e.object.tag) {
        result.alreadyIngested++;
        result.alreadyIngestedKeys.push(e.object.key);
        continue;
      }
      validate(e.delta);
      batch.set(e.object.key, e.object.tag);
      todo.push(e);
    }
    if (todo.length === 0) return result;
    return this.op(async () => {
      await this.actionIds([...new Set(todo.flatMap((e) => e.delta.actions))]);
      await this.principalIds(todo.flatMap((e) => e.delta.principals));
      // Instance profile → roles: a set union, written before the objects are marked ingested
      // (a crash in between re-adds the same members on redelivery).
      const profileRoles = todo.flatMap((e) => e.delta.profileRoles ?? []);
      if (profileRoles.length > 0)
        await this.pipe((p) => {
          for (const { profile, role } of profileRoles) p.sadd(this.profileKey(profile), role);
        });
      for (;;) {
        const reply = await this.redis.tmCommit(JSON.stringify(this.payload(todo)));
        if (reply[0] === 1) {
          result.merged += todo.length;
          return result;
        }
        if (reply[0] === -1) throw new EpochChanged('the Redis store was reset');
        // Another replica ingested some of these meanwhile: nothing was written; without them.
        const done = new Set(reply.slice(1).map((i) => i - 1));
        result.alreadyIngested += done.size;
        for (const i of done) result.alreadyIngestedKeys.push(todo[i].object.key);
        todo = todo.filter((_, i) => !done.has(i));
        if (todo.length === 0) return result;
      }
    });
  }

  private payload(entries: readonly CommitEntry[]): Payload {
    const horizon = this.horizon();
    const accs = new Map<number, PrincipalAcc>();
    const unmapped = new Map<string, [string, string, number]>();
    const unknown = new Set<string>();
    for (const { delta } of entries) {
      const gids = delta.actions.map((n) => this.ids.get(n)!);
      const accOf = (p: number) => {
        const pid = this.pids.get(delta.principals[p])!;
        let acc = accs.get(pid);
        if (acc === undefined) accs.set(pid, (acc = new PrincipalAcc()));
        return acc;
      };
      for (const d of delta.days) {
        const acc = accOf(d.p);
        acc.see(d.day);
        for (const a of d.used) acc.used.add(gids[a]);
        if (d.day < horizon) continue; // would expire at once
        let sets = acc.days.get(d.day);
        if (sets === undefined) acc.days.set(d.day, (sets = [new Set(), new Set()]));
        for (const a of d.used) sets[0].add(gids[a]);
        for (const a of d.denied) sets[1].add(gids[a]);
      }
      for (const u of delta.uses) {
        const acc = accOf(u.p);
        const gid = gids[u.a];
        const prev = acc.uses.get(gid);
        if (prev === undefined) {
          acc.uses.set(gid, [
            gid,
            u.firstSeen,
            u.lastSeen,
            u.count,
            u.deniedCount,
            u.deniedLast,
            u.deniedCode,
            mergeSample(u.resources, [], this.maxResources),
          ]);
          continue;
        }
        prev[1] = minTime(prev[1], u.firstSeen);
        prev[2] = Math.max(prev[2], u.lastSeen);
        prev[3] += u.count;
        prev[4] += u.deniedCount;
        if (u.deniedLast > prev[5] || (u.deniedLast === prev[5] && u.deniedCode > prev[6])) {
          prev[5] = u.deniedLast;
          prev[6] = u.deniedCode;
        }
        prev[7] = mergeSample(prev[7], u.resources, this.maxResources, true);
      }
      for (const pr of delta.passRoles) {
        const acc = accOf(pr.p);
        acc.see(pr.day);
        if (pr.day < horizon) continue;
        let day = acc.roles.get(pr.day);
        if (day === undefined) acc.roles.set(pr.day, (day = new Map()));
        const key = pr.role + '\u0000' + pr.service;
        const hit = day.get(key);
        if (hit === undefined) day.set(key, [pr.role, pr.service, pr.lastSeen]);
        else hit[2] = Math.max(hit[2], pr.lastSeen);
      }
      for (const { source, name, count } of delta.unmapped) {
        const key = source + '\u0000' + name;
        const hit = unmapped.get(key);
        if (hit === undefined) unmapped.set(key, [source, name, count]);
        else hit[2] += count;
      }
      for (const name of delta.unknownActions) unknown.add(name);
    }
    const arnOf = new Map<number, string>();
    for (const { delta } of entries)
      for (const arn of delta.principals) arnOf.set(this.pids.get(arn)!, arn);
    const p: PrincipalRow[] = [];
    for (const [pid, acc] of accs) {
      const none = acc.first === Infinity;
      p.push([
        pid,
        arnOf.get(pid)!,
        none ? -1 : acc.first,
        none ? -1 : acc.last,
        ascending(acc.used),
        [...acc.days].map(([day, [u, d]]) => [day, ascending(u), ascending(d)]),
        [...acc.uses.values()],
        [...acc.roles].map(([day, roles]) => [day, [...roles.values()]]),
      ]);
    }
    return {
      pre: this.pre,
      e: this.epoch,
      r: this.retentionDays,
      t: this.retentionDays * 86_400,
      x: this.maxResources,
      o: entries.map((e) => [e.object.key, e.object.tag]),
      p,
      m: [...unmapped.values()],
      k: [...unknown],
    };
  }

  /**
   * Moves with every commit touching the principal (on any replica: the number lives in Redis)
   * and once a day, as a day crossing the retention horizon changes the answers too.
   */
  version(principal: string): Promise<number | undefined> {
    return this.op(async () => {
      const pid = await this.pidOf(principal);
      if (pid === undefined) return undefined;
      const [v] = (await this.pipe((p) => p.hget(this.pkey(pid, 'm'), 'v'))) as [string | null];
      return Number(v ?? 0) * 100_000 + this.horizon();
    });
  }

  isIngested(object: ObjectRef): Promise<boolean> {
    return this.op(async () => (await this.redis.get(this.g + 'o:' + object.key)) === object.tag);
  }

  private async pidOf(arn: string): Promise<number | undefined> {
    const cached = this.pids.get(arn);
    if (cached !== undefined) return cached;
    const pid = await this.redis.hget(this.g + 'principals', arn);
    if (pid === null) return undefined;
    this.pids.set(arn, Number(pid));
    return Number(pid);
  }

  /** local id → global id for the principal, covering local ids up to `upTo`. */
  private async localsOf(pid: number, upTo: number): Promise<number[]> {
    const cached = this.locals.get(pid);
    if (cached !== undefined && upTo < cached.length) return cached;
    const [table] = (await this.pipe((p) => p.hgetall(this.pkey(pid, 'a')))) as [
      Record<string, string>,
    ];
    const out: number[] = [];
    for (const [gid, local] of Object.entries(table)) out[Number(local)] = Number(gid);
    if (this.locals.size >= LOCALS_CACHE) this.locals.clear();
    this.locals.set(pid, out);
    return out;
  }

  /** Day buckets of [from, to] ∩ retained days, narrowed to the principal's days when wide. */
  private async buckets(
    pid: number,
    fromDay: Day,
    toDay: Day,
  ): Promise<[from: Day, to: Day] | undefined> {
    let from = Math.max(fromDay, this.horizon(), 0);
    let to = Math.min(toDay, DAY_LIMIT - 1);
    if (to < from) return undefined;
    if (Math.floor(to / BUCKET_DAYS) - Math.floor(from / BUCKET_DAYS) >= WIDE_WINDOW_BUCKETS) {
      const [[f, l]] = (await this.pipe((p) => p.hmget(this.pkey(pid, 'm'), 'f', 'l'))) as [
        (string | null)[],
      ];
      if (f === null || l === null) return undefined;
      from = Math.max(from, Number(f));
      to = Math.min(to, Number(l));
      if (to < from) return undefined;
    }
    return [from, to];
  }

  windowActions(principal: string, fromDay: Day, toDay: Day): Promise<WindowActions> {
    const none = { used: new Uint32Array(0), denied: new Uint32Array(0) };
    return this.op(async () => {
      const pid = await this.pidOf(principal);
      if (pid === undefined) return none;
      const range = await this.buckets(pid, fromDay, toDay);
      if (range === undefined) return none;
      const [from, to] = range;
      const b0 = Math.floor(from / BUCKET_DAYS);
      const b1 = Math.floor(to / BUCKET_DAYS);
      const replies = (await this.pipe((p) => {
        for (let b = b0; b <= b1; b++) p.hgetallBuffer(this.pkey(pid, `d:${b}`));
      })) as Record<string, Buffer>[];
      let used: Uint32Array = new Uint32Array(0);
      let denied: Uint32Array = new Uint32Array(0);
      replies.forEach((fields, i) => {
        for (const [field, bytes] of Object.entries(fields)) {
          const f = Number(field);
          const day = (b0 + i) * BUCKET_DAYS + (f % BUCKET_DAYS);
          if (day < from || day > to) continue;
          if (f < BUCKET_DAYS) used = orInto(used, bytes);
          else denied = orInto(denied, bytes);
        }
      });
      const u = bitmapIds(used);
      const d = bitmapIds(denied);
      const top = Math.max(u.at(-1) ?? -1, d.at(-1) ?? -1);
      if (top < 0) return none;
      const table = await this.localsOf(pid, top);
      const toGlobal = (ids: number[]) => Uint32Array.from(ids, (l) => table[l]).sort();
      const result = { used: toGlobal(u), denied: toGlobal(d) };
      await this.namesCover(result.used, result.denied);
      return result;
    });
  }

  /** Makes sure the names mirror covers ids another replica may just have appended. */
  private async namesCover(...lists: Uint32Array[]): Promise<void> {
    const top = Math.max(-1, ...lists.map((l) => l.at(-1) ?? -1));
    if (top >= this.names.length) await this.syncNames();
  }

  actionDetails(principal: string, actions?: Uint32Array): Promise<ActionDetail[]> {
    return this.op(async () => {
      const pid = await this.pidOf(principal);
      if (pid === undefined || actions?.length === 0) return [];
      const key = this.pkey(pid, 'u');
      const rows: [number, string][] = [];
      if (actions === undefined) {
        const [all] = (await this.pipe((p) => p.hgetall(key))) as [Record<string, string>];
        for (const [gid, v] of Object.entries(all)) rows.push([Number(gid), v]);
      } else {
        const ids = [...actions];
        const [got] = (await this.pipe((p) => p.hmget(key, ...ids.map(String)))) as [
          (string | null)[],
        ];
        ids.forEach((gid, i) => got[i] !== null && rows.push([gid, got[i]]));
      }
      const list = rows.map(([action, v]): ActionDetail => {
        const tab = v.indexOf('\t');
        const [f, l, c, dc, dl, dd] = JSON.parse(v.slice(0, tab)) as StoredUse;
        const r = JSON.parse(v.slice(tab + 1)) as string[];
        return {
          action,
          firstSeen: f,
          lastSeen: l,
          count: c,
          deniedCount: dc,
          deniedLast: dl,
          deniedCode: dd,
          resources: r,
        };
      });
      const sorted = list.sort((a, b) => a.action - b.action);
      await this.namesCover(Uint32Array.from(sorted, (d) => d.action));
      return sorted;
    });
  }

  passRoles(principal: string, fromDay: Day, toDay: Day): Promise<PassRoleDetail[]> {
    return this.op(async () => {
      const pid = await this.pidOf(principal);
      if (pid === undefined) return [];
      const range = await this.buckets(pid, fromDay, toDay);
      if (range === undefined) return [];
      const [from, to] = range;
      const b0 = Math.floor(from / BUCKET_DAYS);
      const b1 = Math.floor(to / BUCKET_DAYS);
      const replies = (await this.pipe((p) => {
        for (let b = b0; b <= b1; b++) p.hgetall(this.pkey(pid, `r:${b}`));
      })) as Record<string, string>[];
      const rows: RoleRow[] = [];
      replies.forEach((fields, i) => {
        for (const [field, v] of Object.entries(fields)) {
          const day = (b0 + i) * BUCKET_DAYS + Number(field);
          if (day >= from && day <= to) rows.push(...(JSON.parse(v) as RoleRow[]));
        }
      });
      // an instance profile stands for the roles seen added to it (none known: left out)
      const profiles = [...new Set(rows.map(([t]) => t).filter(isProfileArn))];
      const members = new Map<string, string[]>();
      if (profiles.length > 0) {
        const got = (await this.pipe((p) => {
          for (const profile of profiles) p.smembers(this.profileKey(profile));
        })) as string[][];
        profiles.forEach((profile, i) => members.set(profile, got[i]));
      }
      const merged = new Map<string, PassRoleDetail>();
      for (const [target, service, lastSeen] of rows) {
        for (const role of members.get(target) ?? [target]) {
          const key = role + '\u0000' + service;
          const prev = merged.get(key);
          if (!prev) merged.set(key, { role, service, lastSeen });
          else if (lastSeen > prev.lastSeen) prev.lastSeen = lastSeen;
        }
      }
      return [...merged.values()].sort((a, b) => cmp(a.service, b.service) || cmp(a.role, b.role));
    });
  }

  principals(): Promise<PrincipalSummary[]> {
    return this.op(async () => {
      const all = await this.redis.hgetall(this.g + 'principals');
      const arns = Object.keys(all);
      const metas = (await this.pipe((p) => {
        for (const arn of arns) p.hmget(this.pkey(Number(all[arn]), 'm'), 'f', 'l', 'n');
      })) as (string | null)[][];
      const list: PrincipalSummary[] = [];
      arns.forEach((principal, i) => {
        const [f, l, n] = metas[i];
        if (f === null || l === null) return; // a pid whose first commit never ran
        list.push({
          principal,
          firstSeen: dayToIso(Number(f)),
          lastSeen: dayToIso(Number(l)),
          actions: Number(n ?? 0),
        });
      });
      return list.sort((a, b) => cmp(a.principal, b.principal));
    });
  }

  unmapped(): Promise<UnmappedCount[]> {
    return this.op(async () => {
      const all = await this.redis.hgetall(this.g + 'unmapped');
      return Object.entries(all)
        .map(([k, v]) => {
          const cut = k.indexOf('\u0000');
          return { source: k.slice(0, cut), name: k.slice(cut + 1), count: Number(v) };
        })
        .sort((a, b) => b.count - a.count || cmp(a.source, b.source) || cmp(a.name, b.name));
    });
  }

  principalCount(): Promise<number> {
    // Principal ids are dense and assigned once: the next id is the count.
    return this.op(async () => Number((await this.redis.hget(this.g + 'meta', 'nextPid')) ?? 0));
  }

  unknownActions(): Promise<string[]> {
    return this.op(async () => (await this.redis.smembers(this.g + 'unknown')).sort());
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect(); // not connected: nothing to say goodbye to
    }
  }
}
