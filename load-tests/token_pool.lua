-- wrk script for run.sh's bearer mode: every request carries the next token of a pool
-- (one token per line), cycling, so no two consecutive requests share a token.
--
--   wrk -t1 -c32 -d10s --latency -s load-tests/token_pool.lua http://127.0.0.1:PORT/ -- TOKENS_FILE
--
-- The requests are formatted once in init(), so request() costs a table lookup: the load
-- generator shares a cpu with the upstream and must stay cheap. Threads start at different
-- offsets of the pool.

local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
end

local reqs = {}
local n = 0
local i = 0

function init(args)
  local path = args[1]
  if not path then
    error("token_pool.lua: pass the token file after --")
  end
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    if #line > 0 then
      n = n + 1
      reqs[n] = wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. line })
    end
  end
  f:close()
  if n == 0 then
    error("token_pool.lua: no tokens in " .. path)
  end
  i = ((thread_id or 0) * 7919) % n
end

function request()
  i = i + 1
  if i > n then
    i = 1
  end
  return reqs[i]
end
