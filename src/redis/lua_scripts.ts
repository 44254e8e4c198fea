/**
 * The Lua scripts the Redis swarm store runs server-side, one `EVALSHA` per announce, scrape,
 * sweep batch or stats read, so each is one round trip and atomic. This file owns the key layout;
 * `redis_store.ts` owns the calls.
 *
 * Key layout under a prefix P (default `nobrake:`), with H the 20 raw bytes of an info hash:
 * - `P H 4s`, `P H 4l`, `P H 6s`, `P H 6l`: ZSETs of peers by last-seen second, one per address
 *   family and role (seeder / leecher), so a reply samples the requester's family first and a
 *   seeder is given leechers first, as the memory store does, with `ZRANDMEMBER` (never the whole
 *   swarm), and the oldest peers are found from the head of each set. A member is the peer id
 *   followed by the compact endpoint, so a sample is read from the set alone: looking each pick
 *   up in a hash cost most of the script's time (a small hash is a list scanned per lookup).
 * - `P H h4`, `P H h6`: HASHes peer id → record: a flags byte, the 4-byte hash of the client's
 *   `key` (zeros for none), then the compact endpoint (6 or 18 bytes).
 * - `P H c`: HASH of the torrent's counts, kept with every change so an announce reads them in
 *   one call: `4s 4l 6s 6l` the sizes of its sets, `d` completed downloads, `p` partial seeds
 *   (BEP 21), `u` peers whose last announce came over UDP.
 * - `P T`: ZSET of info hashes with peers, scored at or below their oldest peer's last-seen second:
 *   the sweep reads the head (`ZRANGEBYSCORE`) in bounded batches instead of scanning keys, and
 *   its size is the torrent count that `max_torrents` holds across processes.
 * - `P G`: HASH of tracker-wide totals kept up to date by every change: `4s 4l 6s 6l p u`.
 *
 * Keys are built inside the scripts from the prefix and the hash (one Redis, not a cluster).
 *
 * @module
 */

/** Flag bits of a stored record (the same meanings as the memory store's, own numbering). */
const COMMON = `
local P = ARGV[1]
local SEEDER, PARTIAL, UDP, COUNTED = 1, 2, 4, 8
local band, bor, bnot = bit.band, bit.bor, bit.bnot

local function set_of(ih, fam, seeder) return P .. ih .. fam .. (seeder and 's' or 'l') end

-- Sizes of the four sets, from the counts hash.
local function cards(ih)
  local c = redis.call('HMGET', P .. ih .. 'c', '4s', '4l', '6s', '6l')
  return tonumber(c[1]) or 0, tonumber(c[2]) or 0, tonumber(c[3]) or 0, tonumber(c[4]) or 0
end

-- complete, incomplete, downloaders, downloaded
local function counts(ih)
  local c = redis.call('HMGET', P .. ih .. 'c', '4s', '4l', '6s', '6l', 'p', 'd')
  local incomplete = (tonumber(c[2]) or 0) + (tonumber(c[4]) or 0)
  return (tonumber(c[1]) or 0) + (tonumber(c[3]) or 0), incomplete,
    incomplete - (tonumber(c[5]) or 0), tonumber(c[6]) or 0
end

-- Moves the torrent-wide and tracker-wide counters by one peer's flags, times sign.
local function account(ih, fam, flags, sign)
  local role = fam .. (band(flags, SEEDER) ~= 0 and 's' or 'l')
  redis.call('HINCRBY', P .. ih .. 'c', role, sign)
  redis.call('HINCRBY', P .. 'G', role, sign)
  if band(flags, PARTIAL) ~= 0 then
    redis.call('HINCRBY', P .. ih .. 'c', 'p', sign)
    redis.call('HINCRBY', P .. 'G', 'p', sign)
  end
  if band(flags, UDP) ~= 0 then
    redis.call('HINCRBY', P .. ih .. 'c', 'u', sign)
    redis.call('HINCRBY', P .. 'G', 'u', sign)
  end
end

-- Drops peers of one torrent last seen before cutoff (at most 1000 per set per call).
local function expire(ih, cutoff)
  for _, fam in ipairs({'4', '6'}) do
    local h = P .. ih .. 'h' .. fam
    for _, role in ipairs({'s', 'l'}) do
      local z = P .. ih .. fam .. role
      local gone = redis.call('ZRANGEBYSCORE', z, '-inf', '(' .. cutoff, 'LIMIT', 0, 1000)
      if #gone > 0 then
        local ids = {}
        for i = 1, #gone do ids[i] = string.sub(gone[i], 1, 20) end
        local records = redis.call('HMGET', h, unpack(ids))
        for i = 1, #gone do
          if records[i] then account(ih, fam, string.byte(records[i], 1), -1) end
        end
        redis.call('ZREM', z, unpack(gone))
        redis.call('HDEL', h, unpack(ids))
      end
    end
  end
end

-- After peers went: forget an empty torrent (keeping an allowed one's completed count), or
-- move its place in the expiry index to its oldest peer.
local function settle(ih, open)
  local T = P .. 'T'
  local oldest = nil
  for _, suffix in ipairs({'4s', '4l', '6s', '6l'}) do
    local head = redis.call('ZRANGE', P .. ih .. suffix, 0, 0, 'WITHSCORES')
    if head[2] then
      local score = tonumber(head[2])
      if oldest == nil or score < oldest then oldest = score end
    end
  end
  if oldest == nil then
    redis.call('ZREM', T, ih)
    local c = P .. ih .. 'c'
    local d = tonumber(redis.call('HGET', c, 'd')) or 0
    if open or d == 0 then
      redis.call('DEL', c)
    else
      redis.call('HDEL', c, '4s', '4l', '6s', '6l', 'p', 'u')
    end
  else
    redis.call('ZADD', T, oldest, ih)
  end
end
`;

/**
 * One announce. ARGV: prefix, info hash, peer id, family ("4"/"6"), endpoint, event
 * ("n" none, "s" started, "c" completed, "x" stopped, "p" paused), seeder ("1"/"0"), udp ("1"/"0"),
 * key hash (4 bytes, or "" for no key), now (s), cutoff (s), numwant, open ("1"/"0"), max torrents,
 * max peers per torrent, want peer ids ("1"/"0"), random seed.
 * Returns {status, complete, incomplete, downloaders, downloaded, peers4, peers6, ids4, ids6};
 * status 0 ok, 1 peer id in use at another address, 2 too many torrents, 3 swarm full.
 */
export const ANNOUNCE_SCRIPT = COMMON + `
local ih, pid, fam, endpoint, event = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local seeder, udp, keyhash = ARGV[7] == '1', ARGV[8] == '1', ARGV[9]
local now, cutoff, numwant = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
local open, max_torrents, max_peers = ARGV[13] == '1', tonumber(ARGV[14]), tonumber(ARGV[15])
local want_ids = ARGV[16] == '1'
math.randomseed(tonumber(ARGV[17]))
local T = P .. 'T'
local addr_len = fam == '4' and 4 or 16

local score = redis.call('ZSCORE', T, ih)
if score and tonumber(score) < cutoff then
  expire(ih, cutoff)
  settle(ih, open)
  score = redis.call('ZSCORE', T, ih)
end
local h = P .. ih .. 'h' .. fam
local record = redis.call('HGET', h, pid)
if record and string.sub(record, 6, 5 + addr_len) ~= string.sub(endpoint, 1, addr_len) then
  -- Another address may take over a peer id only by proving it is the same client.
  if keyhash == '' or string.sub(record, 2, 5) ~= keyhash then return {1} end
end
local previous = record and string.byte(record, 1) or 0
-- The member a stored peer has in its set: its id, then the endpoint it was listed with.
local old_member = record and (pid .. string.sub(record, 6)) or nil
if event == 'x' then
  if record then
    redis.call('ZREM', set_of(ih, fam, band(previous, SEEDER) ~= 0), old_member)
    redis.call('HDEL', h, pid)
    account(ih, fam, previous, -1)
    settle(ih, open)
  end
  local complete, incomplete, downloaders, downloaded = counts(ih)
  return {0, complete, incomplete, downloaders, downloaded, '', '', '', ''}
end
if not score and open and redis.call('ZCARD', T) >= max_torrents then return {2} end
-- The counts as they stand, kept up to date below instead of read again.
local c = redis.call('HMGET', P .. ih .. 'c', '4s', '4l', '6s', '6l', 'p', 'd')
local sizes = {
  ['4s'] = tonumber(c[1]) or 0, ['4l'] = tonumber(c[2]) or 0,
  ['6s'] = tonumber(c[3]) or 0, ['6l'] = tonumber(c[4]) or 0,
}
local partials, downloaded = tonumber(c[5]) or 0, tonumber(c[6]) or 0
if not record and sizes['4s'] + sizes['4l'] + sizes['6s'] + sizes['6l'] >= max_peers then
  return {3}
end

local flags = seeder and SEEDER or (event == 'p' and PARTIAL or 0)
if udp then flags = bor(flags, UDP) end
-- A completion counts once per peer: on completed, or on a leecher turning seeder.
local completes = seeder and band(previous, COUNTED) == 0 and
  (event == 'c' or (record and band(previous, SEEDER) == 0))
if completes then
  redis.call('HINCRBY', P .. ih .. 'c', 'd', 1)
  downloaded = downloaded + 1
end
if completes or band(previous, COUNTED) ~= 0 then flags = bor(flags, COUNTED) end
local member = pid .. endpoint
local old_role = fam .. (band(previous, SEEDER) ~= 0 and 's' or 'l')
local new_role = fam .. (seeder and 's' or 'l')
if record then
  -- Most announces change no flag: then no counter moves.
  if band(previous, bnot(COUNTED)) ~= band(flags, bnot(COUNTED)) then
    account(ih, fam, previous, -1)
    account(ih, fam, flags, 1)
    sizes[old_role] = sizes[old_role] - 1
    sizes[new_role] = sizes[new_role] + 1
    partials = partials + (band(flags, PARTIAL) ~= 0 and 1 or 0) - (band(previous, PARTIAL) ~= 0 and 1 or 0)
  end
  if band(previous, SEEDER) ~= band(flags, SEEDER) or old_member ~= member then
    redis.call('ZREM', set_of(ih, fam, band(previous, SEEDER) ~= 0), old_member)
  end
else
  account(ih, fam, flags, 1)
  sizes[new_role] = sizes[new_role] + 1
  if band(flags, PARTIAL) ~= 0 then partials = partials + 1 end
end
redis.call('ZADD', set_of(ih, fam, seeder), now, member)
redis.call('HSET', h, pid, string.char(flags) .. (keyhash == '' and '\\0\\0\\0\\0' or keyhash) .. endpoint)
if not score then redis.call('ZADD', T, now, ih) end

-- Up to n members of one set, never the requester; their endpoints (and ids) appended.
local function take(set, n, peers, ids)
  if n <= 0 then return 0 end
  local picked = redis.call('ZRANDMEMBER', set, n + 1)
  local got = 0
  for i = 1, #picked do
    local m = picked[i]
    if got < n and m ~= member then
      got = got + 1
      peers[#peers + 1] = string.sub(m, 21)
      if ids then ids[#ids + 1] = string.sub(m, 1, 20) end
    end
  end
  return got
end

-- Up to want peers of one family: a seeder gets leechers first; a leecher a uniform mix.
local function fill(f, want, own, peers, ids)
  local ns, nl = sizes[f .. 's'], sizes[f .. 'l']
  if own then
    if seeder then ns = ns - 1 else nl = nl - 1 end
  end
  if want > ns + nl then want = ns + nl end
  if want <= 0 then return 0 end
  local from_seeders
  if seeder then
    from_seeders = want - math.min(want, nl)
  else
    from_seeders = math.floor(want * ns / (ns + nl) + math.random())
    from_seeders = math.max(want - nl, math.min(ns, from_seeders))
  end
  local got = take(P .. ih .. f .. 'l', want - from_seeders, peers, ids)
  return got + take(P .. ih .. f .. 's', from_seeders, peers, ids)
end

local other = fam == '4' and '6' or '4'
local own_peers, own_ids, other_peers, other_ids = {}, want_ids and {} or nil, {}, want_ids and {} or nil
local got = fill(fam, numwant, true, own_peers, own_ids)
fill(other, numwant - got, false, other_peers, other_ids)
local complete, incomplete = sizes['4s'] + sizes['6s'], sizes['4l'] + sizes['6l']
local p4, p6 = table.concat(own_peers), table.concat(other_peers)
local i4, i6 = table.concat(own_ids or {}), table.concat(other_ids or {})
if fam == '6' then p4, p6, i4, i6 = p6, p4, i6, i4 end
return {0, complete, incomplete, incomplete - partials, downloaded, p4, p6, i4, i6}
`;

/**
 * Scrape counts. ARGV: prefix, then info hashes; or prefix and nothing else for every torrent that
 * has peers. Returns a flat list: hash, complete, incomplete, downloaders, downloaded per torrent.
 */
export const SCRAPE_SCRIPT = COMMON + `
local hashes = {}
if #ARGV == 1 then
  hashes = redis.call('ZRANGE', P .. 'T', 0, -1)
else
  for i = 2, #ARGV do hashes[#hashes + 1] = ARGV[i] end
end
local out = {}
for _, ih in ipairs(hashes) do
  local complete, incomplete, downloaders, downloaded = counts(ih)
  out[#out + 1] = ih
  out[#out + 1] = complete
  out[#out + 1] = incomplete
  out[#out + 1] = downloaders
  out[#out + 1] = downloaded
end
return out
`;

/**
 * One sweep batch. ARGV: prefix, cutoff (s), open ("1"/"0"), batch size. Expires the torrents
 * whose oldest peer is older than the cutoff; returns how many torrents it visited.
 */
export const SWEEP_SCRIPT = COMMON + `
local cutoff, open, batch = tonumber(ARGV[2]), ARGV[3] == '1', tonumber(ARGV[4])
local due = redis.call('ZRANGEBYSCORE', P .. 'T', '-inf', '(' .. cutoff, 'LIMIT', 0, batch)
for _, ih in ipairs(due) do
  expire(ih, cutoff)
  settle(ih, open)
end
return #due
`;

/**
 * Drops the swarms of hashes the allowlist no longer allows, completed counts included.
 * ARGV: prefix, then info hashes.
 */
export const DROP_SCRIPT = COMMON + `
for i = 2, #ARGV do
  local ih = ARGV[i]
  local left = 1
  while left > 0 do
    expire(ih, 4294967296)
    local s4, l4, s6, l6 = cards(ih)
    left = s4 + l4 + s6 + l6
  end
  redis.call('ZREM', P .. 'T', ih)
  redis.call('DEL', P .. ih .. 'c')
end
return 0
`;

/** Tracker-wide totals. ARGV: prefix. Returns {torrents with peers, s4, l4, s6, l6, p, u}. */
export const TOTALS_SCRIPT = `
local P = ARGV[1]
local g = redis.call('HMGET', P .. 'G', '4s', '4l', '6s', '6l', 'p', 'u')
local out = {redis.call('ZCARD', P .. 'T')}
for i = 1, 6 do out[i + 1] = tonumber(g[i]) or 0 end
return out
`;
