-- wrk script for soak.sh: every request carries the next credential of a pool (one per
-- line, cycling), and each connection waits DELAY_MS between requests, so the rate is
-- moderate and set by the script (about connections * 1000 / (DELAY_MS + latency) req/s).
--
--   wrk -t1 -c4 -d600s -s load-tests/soak.lua http://127.0.0.1:PORT/api/x -- bearer TOKENS_FILE 10
--   wrk -t1 -c2 -d600s -s load-tests/soak.lua http://127.0.0.1:PORT/app/x -- cookie COOKIES_FILE 20
--
-- bearer: "Authorization: Bearer <line>"; cookie: "Cookie: authgate=<line>" with
-- "Accept: application/json" (a failed session answers 401, counted as an error, instead
-- of a 302 to the login).

local reqs = {}
local n = 0
local i = 0
local wait_ms = 10

function init(args)
  local kind, path = args[1], args[2]
  wait_ms = tonumber(args[3] or "10")
  if (kind ~= "bearer" and kind ~= "cookie") or not path then
    error("soak.lua: pass bearer|cookie FILE [DELAY_MS] after --")
  end
  local f = assert(io.open(path, "r"))
  for line in f:lines() do
    if #line > 0 then
      n = n + 1
      if kind == "bearer" then
        reqs[n] = wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. line })
      else
        reqs[n] = wrk.format(nil, nil, { ["Cookie"] = "authgate=" .. line, ["Accept"] = "application/json" })
      end
    end
  end
  f:close()
  if n == 0 then
    error("soak.lua: nothing in " .. path)
  end
  i = math.random(n) - 1
end

function delay()
  return wait_ms
end

function request()
  i = i + 1
  if i > n then
    i = 1
  end
  return reqs[i]
end
