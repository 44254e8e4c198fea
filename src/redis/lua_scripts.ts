/**
 * The Lua scripts the Redis swarm store runs server-side, one `FCALL` per announce, scrape,
 * sweep batch or stats read, so each is one round trip and atomic. This file owns the key layout;
 * `redis_store.ts` owns the calls.
 *
 * Key layout under a prefix P (default `nobrake:`), with H the 20 raw bytes of an info hash:
 * - `P H e4s`, `e4l`, `e6s`, `e6l`: STRINGs of compact endpoints side by side, one per address
 *   family and role (seeder / leecher), slot after slot; `P H i4s` … `i6l` the peer ids of the same
 *   slots. A reply reads a run of slots from a random start (`GETRANGE`), as the memory store
 *   reads a run of its table: the requester's family first, leechers first for a seeder, never the
 *   whole swarm. A removed peer's slot takes the last slot's peer. (Sets sampled with
 *   `ZRANDMEMBER` cost redis-server about three times as much per announce: every pick is one
 *   reply value for Lua to build and take apart; `tests/bench/README.md`, "Redis store".)
 * - `P H z4`, `P H z6`: ZSETs of peers by last-seen second, the oldest at the head. A member is
 *   the peer's handle, its slot times two plus one for a seeder, as an integer, which a listpack
 *   keeps in a byte or two; the slot's id in `i…` leads to the record. A removed peer's handle is
 *   taken by the peer moved into its slot. (Peer ids as members cost 21.7 B more per peer, 108.9
 *   against 87.2 at 1,000,000 peers: `tests/bench/README.md`, "Redis store".)
 * - `P H c`: the torrent's HASH, read by an announce in one `HMGET`: its counts, kept with every
 *   change (`4s 4l 6s 6l` the slots in use, `d` completed downloads, `p` partial seeds, BEP 21),
 *   `o` its score in `P T` (present while it has peers), and one record per peer, under the peer
 *   id for IPv4 and `6` and the peer id for IPv6: a flags byte, the 4-byte hash of the client's
 *   `key` (zeros for none), the compact endpoint (6 or 18 bytes), then the slot number in text.
 *   (Counts, records and the expiry score in separate keys took two more calls per announce.)
 * - `P T`: ZSET of info hashes with peers, scored at or below their oldest peer's last-seen second:
 *   the sweep reads the head (`ZRANGEBYSCORE`) in bounded batches instead of scanning keys, and
 *   its size is the torrent count that `max_torrents` holds across processes.
 * - `P G`: HASH of tracker-wide totals kept up to date by every change: `4s 4l 6s 6l p u` (`u`:
 *   peers whose last announce came over UDP).
 *
 * Keys are built inside the scripts from the prefix and the hash (one Redis, not a cluster).
 * Each script is the body of one function of a Redis Functions library (`lua_library.ts`): ARGV
 * is its arguments, and it runs after `HELPERS`' per-call set-up.
 *
 * @module
 */

/**
 * Helpers every script shares, defined once when the library loads (`lua_library.ts`). `P` (the
 * prefix) and the `bit` functions are set at the start of every call: a library is loaded where
 * `bit` is not yet reachable. Flag bits of a record: the memory store's meanings.
 */
export const HELPERS = `
local P
local SEEDER, PARTIAL, UDP, COUNTED = 1, 2, 4, 8
local band, bor, bnot

local function role_of(fam, flags) return fam .. (band(flags, SEEDER) ~= 0 and 's' or 'l') end
local function esize(fam) return fam == '4' and 6 or 18 end
-- Where a peer's record is in its torrent's hash: field names of counts are 1 or 2 bytes long.
local function field_of(fam, pid) return fam == '4' and pid or '6' .. pid end

-- Sizes of the four slot arrays, from the counts hash.
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

-- Moves the tracker-wide counters by one peer's flags, times sign.
local function account_globally(fam, flags, sign)
  redis.call('HINCRBY', P .. 'G', role_of(fam, flags), sign)
  if band(flags, PARTIAL) ~= 0 then redis.call('HINCRBY', P .. 'G', 'p', sign) end
  if band(flags, UDP) ~= 0 then redis.call('HINCRBY', P .. 'G', 'u', sign) end
end

-- Moves the torrent-wide and tracker-wide counters by one peer's flags, times sign.
local function account(ih, fam, flags, sign)
  redis.call('HINCRBY', P .. ih .. 'c', role_of(fam, flags), sign)
  if band(flags, PARTIAL) ~= 0 then redis.call('HINCRBY', P .. ih .. 'c', 'p', sign) end
  account_globally(fam, flags, sign)
end

-- A record: flags, key hash, endpoint, slot.
local function record_of(flags, key, endpoint, slot)
  return string.char(flags) .. key .. endpoint .. slot
end
local function slot_of(record, fam) return tonumber(string.sub(record, 6 + esize(fam))) end

-- Puts a peer in the next free slot of an array of n slots; returns the slot.
-- Below this many slots an array is rewritten whole when it grows: a string grown in place keeps up
-- to as much again in spare room, which cost about 25 B per peer in small swarms.
local REWRITE_BELOW = 1024

-- Writes bytes at slot n of an array of n slots.
local function append(key, n, bytes)
  local width = #bytes
  if n < REWRITE_BELOW then
    local kept = n == 0 and '' or redis.call('GETRANGE', key, 0, n * width - 1)
    redis.call('SET', key, kept .. bytes)
  else
    redis.call('SETRANGE', key, n * width, bytes)
  end
end

local function add_slot(ih, role, n, pid, endpoint)
  append(P .. ih .. 'e' .. role, n, endpoint)
  append(P .. ih .. 'i' .. role, n, pid)
  return n
end

-- A peer's member in its family's last-seen ZSET: its slot and role as one small integer, which
-- a listpack stores in a byte or two where the peer id took 20.
local function handle_of(role, slot)
  return slot * 2 + (string.sub(role, 2) == 's' and 1 or 0)
end

-- Empties slot of an array of n slots: the last slot's peer moves into it (its record and its
-- last-seen entry follow).
local function remove_slot(ih, fam, role, n, slot)
  local es = esize(fam)
  local last = n - 1
  local e, i = P .. ih .. 'e' .. role, P .. ih .. 'i' .. role
  local z = P .. ih .. 'z' .. fam
  if slot == last then
    redis.call('ZREM', z, handle_of(role, slot))
  else
    -- The moved peer's entry takes the emptied slot's handle, and with it the removed peer's place.
    local moved_handle = handle_of(role, last)
    local seen = redis.call('ZSCORE', z, moved_handle)
    redis.call('ZREM', z, moved_handle)
    if seen then
      redis.call('ZADD', z, seen, handle_of(role, slot))
    else
      redis.call('ZREM', z, handle_of(role, slot))
    end
  end
  if last <= 0 then
    redis.call('DEL', e, i)
    return
  end
  if slot ~= last then
    local moved_endpoint = redis.call('GETRANGE', e, last * es, last * es + es - 1)
    local moved = redis.call('GETRANGE', i, last * 20, last * 20 + 19)
    redis.call('SETRANGE', e, slot * es, moved_endpoint)
    redis.call('SETRANGE', i, slot * 20, moved)
    local c, field = P .. ih .. 'c', field_of(fam, moved)
    local record = redis.call('HGET', c, field)
    if record then
      redis.call('HSET', c, field, string.sub(record, 1, 5 + es) .. slot)
    end
  end
  -- The bytes past the last slot stay as garbage until the array grows over them or empties.
end

-- Drops peers of one torrent last seen before cutoff (at most 1000 per family per call).
local function expire(ih, cutoff)
  local sizes = {}
  sizes['4s'], sizes['4l'], sizes['6s'], sizes['6l'] = cards(ih)
  local c = P .. ih .. 'c'
  for _, fam in ipairs({'4', '6'}) do
    local z = P .. ih .. 'z' .. fam
    local gone = redis.call('ZRANGEBYSCORE', z, '-inf', '(' .. cutoff, 'LIMIT', 0, 1000)
    -- Handles name slots, and removing a peer moves another's slot: read every peer id first,
    -- then remove by peer id, whose record follows its slot.
    local pids, stray = {}, {}
    for _, handle in ipairs(gone) do
      local h = tonumber(handle) or -1
      local role, slot = fam .. (h % 2 == 1 and 's' or 'l'), math.floor(h / 2)
      if slot >= 0 and slot < sizes[role] then
        local ids = P .. ih .. 'i' .. role
        pids[#pids + 1] = redis.call('GETRANGE', ids, slot * 20, slot * 20 + 19)
      else
        stray[#stray + 1] = handle
      end
    end
    -- Entries that name no slot (never left by these scripts) must not stall the sweep.
    if #stray > 0 then redis.call('ZREM', z, unpack(stray)) end
    for _, pid in ipairs(pids) do
      local field = field_of(fam, pid)
      local record = redis.call('HGET', c, field)
      if record then
        local flags = string.byte(record, 1)
        local role = role_of(fam, flags)
        remove_slot(ih, fam, role, sizes[role], slot_of(record, fam))
        sizes[role] = sizes[role] - 1
        account(ih, fam, flags, -1)
        redis.call('HDEL', c, field)
      end
    end
  end
end

-- After peers went: forget an empty torrent (keeping an allowed one's completed count), or
-- move its place in the expiry index to its oldest peer.
local function settle(ih, open)
  local T = P .. 'T'
  local oldest = nil
  for _, fam in ipairs({'4', '6'}) do
    local head = redis.call('ZRANGE', P .. ih .. 'z' .. fam, 0, 0, 'WITHSCORES')
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
      redis.call('HDEL', c, '4s', '4l', '6s', '6l', 'p', 'o')
    end
  else
    redis.call('ZADD', T, oldest, ih)
    redis.call('HSET', P .. ih .. 'c', 'o', oldest)
  end
end

-- Sampling, for the announce script. Bytes [from, from + count) of slots of size width in array
-- key, wrapping past n slots.
local function run(key, width, n, from, count)
  if count <= 0 then return '' end
  local stop = from + count
  if stop <= n then return redis.call('GETRANGE', key, from * width, stop * width - 1) end
  return redis.call('GETRANGE', key, from * width, n * width - 1) ..
    redis.call('GETRANGE', key, 0, (stop - n) * width - 1)
end

-- bytes without the slot of size bytes at index cut (none when cut is nil).
local function cut_out(bytes, size, cut)
  if cut == nil then return bytes end
  return string.sub(bytes, 1, cut * size) .. string.sub(bytes, (cut + 1) * size + 1)
end

-- Up to want peers of one slot array (key base .. 'e' .. role) of n slots from a random start,
-- skipping slot skip (or nil); appends their endpoints (and ids).
local function take(base, role, width, n, want, skip, peers, ids)
  local available = n - (skip and 1 or 0)
  if want > available then want = available end
  if want <= 0 then return 0 end
  local start = want == available and 0 or math.floor(math.random() * n)
  local count, cut = want, nil
  if skip then
    local at = (skip - start) % n
    if at < want then
      count = want + 1
      cut = at
    end
  end
  peers[#peers + 1] = cut_out(run(base .. 'e' .. role, width, n, start, count), width, cut)
  if ids then ids[#ids + 1] = cut_out(run(base .. 'i' .. role, 20, n, start, count), 20, cut) end
  return want
end

-- Up to want peers of family f, given the slot counts: a seeder gets leechers first; a leecher a
-- uniform mix. own: f is the requester's family, and its slot is skipped.
local function fill(base, sizes, seeder, slot, f, want, own, peers, ids)
  local width = f == '4' and 6 or 18
  local ns, nl = sizes[f .. 's'], sizes[f .. 'l']
  local skip_s = own and seeder and slot or nil
  local skip_l = own and not seeder and slot or nil
  local avail_s, avail_l = ns - (skip_s and 1 or 0), nl - (skip_l and 1 or 0)
  if want > avail_s + avail_l then want = avail_s + avail_l end
  if want <= 0 then return 0 end
  local from_seeders
  if seeder then
    from_seeders = want - math.min(want, avail_l)
  else
    from_seeders = math.floor(want * avail_s / (avail_s + avail_l) + math.random())
    from_seeders = math.max(want - avail_l, math.min(avail_s, from_seeders))
  end
  local got = take(base, f .. 'l', width, nl, want - from_seeders, skip_l, peers, ids)
  return got + take(base, f .. 's', width, ns, from_seeders, skip_s, peers, ids)
end
`;

/**
 * One announce. ARGV: prefix, then the announce packed by `packAnnounce` (`announce_arguments.ts`:
 * flags, event, now, cutoff, numwant, max torrents, max peers per torrent, random seed, key hash,
 * info hash, peer id, endpoint), read with one `struct.unpack`.
 * Returns {status, complete, incomplete, downloaders, downloaded, peers4, peers6, ids4, ids6};
 * status 0 ok, 1 peer id in use at another address, 2 too many torrents, 3 swarm full.
 */
export const ANNOUNCE_SCRIPT = `
local packed = ARGV[2]
local bits, event, now, cutoff, numwant, max_torrents, max_peers, seed, keyhash, ih, pid, rest =
  struct.unpack('>Bc1I4I4I4I4I4I4c4c20c20', packed)
local endpoint = string.sub(packed, rest)
local fam = #endpoint == 6 and '4' or '6'
local seeder, udp = band(bits, 1) ~= 0, band(bits, 2) ~= 0
local open, want_ids = band(bits, 4) ~= 0, band(bits, 8) ~= 0
if band(bits, 16) == 0 then keyhash = '' end
math.randomseed(seed)
local T = P .. 'T'
local C = P .. ih .. 'c'
local field = field_of(fam, pid)
local es = #endpoint
local addr_len = es - 2

-- The torrent's counts, its expiry score and this peer's record, in one call.
local c = redis.call('HMGET', C, '4s', '4l', '6s', '6l', 'p', 'd', 'o', field)
local score = tonumber(c[7])
if score and score < cutoff then
  expire(ih, cutoff)
  settle(ih, open)
  c = redis.call('HMGET', C, '4s', '4l', '6s', '6l', 'p', 'd', 'o', field)
  score = tonumber(c[7])
end
local record = c[8]
if record and string.sub(record, 6, 5 + addr_len) ~= string.sub(endpoint, 1, addr_len) then
  -- Another address may take over a peer id only by proving it is the same client.
  if keyhash == '' or string.sub(record, 2, 5) ~= keyhash then return {1} end
end
local previous = record and string.byte(record, 1) or 0
local old_role = role_of(fam, previous)
local old_slot = record and slot_of(record, fam) or nil
-- The counts as they stand, kept up to date below and written back in one call at the end.
local sizes = {
  ['4s'] = tonumber(c[1]) or 0, ['4l'] = tonumber(c[2]) or 0,
  ['6s'] = tonumber(c[3]) or 0, ['6l'] = tonumber(c[4]) or 0,
}
local partials, downloaded = tonumber(c[5]) or 0, tonumber(c[6]) or 0
if event == 'x' then
  if record then
    remove_slot(ih, fam, old_role, sizes[old_role], old_slot)
    redis.call('HDEL', C, field)
    account(ih, fam, previous, -1)
    settle(ih, open)
  end
  local complete, incomplete, downloaders, downloaded = counts(ih)
  return {0, complete, incomplete, downloaders, downloaded, '', '', '', ''}
end
if not score and open and redis.call('ZCARD', T) >= max_torrents then return {2} end
local before = {sizes['4s'], sizes['4l'], sizes['6s'], sizes['6l'], partials, downloaded}
if not record and sizes['4s'] + sizes['4l'] + sizes['6s'] + sizes['6l'] >= max_peers then
  return {3}
end

local flags = seeder and SEEDER or (event == 'p' and PARTIAL or 0)
if udp then flags = bor(flags, UDP) end
-- A completion counts once per peer: on completed, or on a leecher turning seeder.
local completes = seeder and band(previous, COUNTED) == 0 and
  (event == 'c' or (record and band(previous, SEEDER) == 0))
if completes then downloaded = downloaded + 1 end
if completes or band(previous, COUNTED) ~= 0 then flags = bor(flags, COUNTED) end
local new_role = role_of(fam, flags)
local key = keyhash == '' and '\\0\\0\\0\\0' or keyhash
local slot
if record then
  if old_role ~= new_role then
    remove_slot(ih, fam, old_role, sizes[old_role], old_slot)
    sizes[old_role] = sizes[old_role] - 1
    slot = add_slot(ih, new_role, sizes[new_role], pid, endpoint)
    sizes[new_role] = sizes[new_role] + 1
  else
    slot = old_slot
    if string.sub(record, 6, 5 + es) ~= endpoint then
      redis.call('SETRANGE', P .. ih .. 'e' .. new_role, slot * es, endpoint)
    end
  end
  -- Most announces change no flag: then no counter moves.
  if band(previous, bnot(COUNTED)) ~= band(flags, bnot(COUNTED)) then
    account_globally(fam, previous, -1)
    account_globally(fam, flags, 1)
    partials = partials + (band(flags, PARTIAL) ~= 0 and 1 or 0) -
      (band(previous, PARTIAL) ~= 0 and 1 or 0)
  end
else
  slot = add_slot(ih, new_role, sizes[new_role], pid, endpoint)
  sizes[new_role] = sizes[new_role] + 1
  account_globally(fam, flags, 1)
  if band(flags, PARTIAL) ~= 0 then partials = partials + 1 end
end
-- Every change to the torrent's hash in one call. A new torrent gets every count, so that they
-- stay at the head of a small hash (a listpack, searched from the head) ahead of the records.
local writes = {}
local after = {sizes['4s'], sizes['4l'], sizes['6s'], sizes['6l'], partials, downloaded}
for i, name in ipairs({'4s', '4l', '6s', '6l', 'p', 'd'}) do
  if after[i] ~= before[i] or not score then
    writes[#writes + 1] = name
    writes[#writes + 1] = after[i]
  end
end
if not score then
  writes[#writes + 1] = 'o'
  writes[#writes + 1] = now
  redis.call('ZADD', T, now, ih)
end
local updated = record_of(flags, key, endpoint, slot)
if updated ~= record then
  writes[#writes + 1] = field
  writes[#writes + 1] = updated
end
if #writes > 0 then redis.call('HSET', C, unpack(writes)) end
redis.call('ZADD', P .. ih .. 'z' .. fam, now, handle_of(new_role, slot))

local other = fam == '4' and '6' or '4'
local own_peers, own_ids, other_peers, other_ids = {}, want_ids and {} or nil, {}, want_ids and {} or nil
local base = P .. ih
local got = fill(base, sizes, seeder, slot, fam, numwant, true, own_peers, own_ids)
fill(base, sizes, seeder, slot, other, numwant - got, false, other_peers, other_ids)
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
export const SCRAPE_SCRIPT = `
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
export const SWEEP_SCRIPT = `
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
export const DROP_SCRIPT = `
for i = 2, #ARGV do
  local ih = ARGV[i]
  -- A batch per family per pass; bounded, should the counts and the sets ever disagree.
  for _ = 1, 1000 do
    expire(ih, 4294967296)
    local s4, l4, s6, l6 = cards(ih)
    if s4 + l4 + s6 + l6 == 0 then break end
  end
  redis.call('ZREM', P .. 'T', ih)
  redis.call('DEL', P .. ih .. 'c')
end
return 0
`;

/** Tracker-wide totals. ARGV: prefix. Returns {torrents with peers, s4, l4, s6, l6, p, u}. */
export const TOTALS_SCRIPT = `
local g = redis.call('HMGET', P .. 'G', '4s', '4l', '6s', '6l', 'p', 'u')
local out = {redis.call('ZCARD', P .. 'T')}
for i = 1, 6 do out[i + 1] = tonumber(g[i]) or 0 end
return out
`;
