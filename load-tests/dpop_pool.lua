-- wrk script for dpop_bench.sh: every request carries the access token as "Authorization: DPoP"
-- and the next unused DPoP proof of a file (one per line). The requests are formatted once in
-- init(); a thread that runs out of proofs starts over (those requests are replays: 401, which
-- wrk reports as non-2xx responses, and dpop_bench.sh refuses such a round).
--
--   wrk -t1 -c32 -d5s -s load-tests/dpop_pool.lua http://127.0.0.1:PORT/dpop -- PROOFS TOKEN

local reqs = {}
local n = 0
local i = 0

function init(args)
  local proofs, token = args[1], args[2]
  if not proofs or not token then
    error("dpop_pool.lua: pass the proofs file and the token after --")
  end
  local f = assert(io.open(proofs, "r"))
  for line in f:lines() do
    if #line > 0 then
      n = n + 1
      reqs[n] = wrk.format(nil, nil, { ["Authorization"] = "DPoP " .. token, ["DPoP"] = line })
    end
  end
  f:close()
  if n == 0 then
    error("dpop_pool.lua: no proofs in " .. proofs)
  end
end

function request()
  i = i + 1
  if i > n then
    i = 1
  end
  return reqs[i]
end
