-- wrk script for the NoBrake load runner (issue 8): replays a request sequence written by
-- `run_load.ts` (one path and query per line, from `workload.ts`), so wrk's C event loop drives
-- the load while the sequence stays defined in one TypeScript file. A Deno client on one core
-- cannot keep the Deno.serve floor busy; wrk can (see tests/bench/README.md).
--
-- Arguments (after `--`): <sequence file> <check every Nth reply> <expected peers per reply>
-- [<pause in ms>]. With a pause, each connection waits that long (on average: a fractional pause
-- alternates between the two whole milliseconds around it) after a reply before its next request,
-- which paces the load to about connections / (pause + latency) requests per second: servers are
-- then compared at the same request rate, not each at its own maximum.
-- Every Nth reply is checked for form: status 200, a bencoded dictionary, no `failure reason`,
-- and for announces a compact `peers` string of exactly the expected count (replies to
-- `stopped` may hold none: they are counted apart). `done` prints one JSON line.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  sequence = {}
  for line in io.lines(args[1]) do
    sequence[#sequence + 1] = wrk.format("GET", line)
  end
  check_every = tonumber(args[2]) or 50
  expected_peers = tonumber(args[3]) or 50
  position = 0
  seen = 0
  checked = 0
  full = 0
  empty = 0
  scrapes = 0
  bad = 0
  problem = ""
  local pause = tonumber(args[4]) or 0
  if pause > 0 then
    local whole = math.floor(pause)
    local fraction = pause - whole
    -- wrk looks for a global `delay` after `init`; without a pause there is none, so no timer.
    delay = function()
      if math.random() < fraction then return whole + 1 end
      return whole
    end
  end
end

function request()
  position = position + 1
  if position > #sequence then position = 1 end
  return sequence[position]
end

local function fail(text)
  bad = bad + 1
  if problem == "" then problem = text end
end

function response(status, headers, body)
  seen = seen + 1
  if seen % check_every ~= 0 then return end
  checked = checked + 1
  if status ~= 200 then return fail("status " .. status) end
  if body:sub(1, 1) ~= "d" or body:sub(-1) ~= "e" then return fail("not a bencoded dictionary") end
  if body:find("failure reason", 1, true) then return fail("failure reason: " .. body) end
  if body:find("5:filesd20:", 1, true) then
    scrapes = scrapes + 1
    return
  end
  local length = body:match("5:peers(%d+):")
  if length == nil then return fail("no compact peers") end
  length = tonumber(length)
  if length == expected_peers * 6 then
    full = full + 1
  elseif length == 0 then
    empty = empty + 1
  else
    fail("compact peers of " .. length .. " bytes")
  end
end

function done(summary, latency, requests)
  local totals = { checked = 0, full = 0, empty = 0, scrapes = 0, bad = 0 }
  local first = ""
  for _, thread in ipairs(threads) do
    for key, _ in pairs(totals) do
      totals[key] = totals[key] + (thread:get(key) or 0)
    end
    local text = thread:get("problem") or ""
    if first == "" then first = text end
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests":%d,"micros":%d,"p50Micros":%d,"p99Micros":%d,' ..
      '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
      '"checked":%d,"full":%d,"empty":%d,"scrapes":%d,"bad":%d,"problem":%q}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    totals.checked, totals.full, totals.empty, totals.scrapes, totals.bad, first:sub(1, 200)))
end
