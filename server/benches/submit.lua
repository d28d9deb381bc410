-- wrk script for the benchmark suite (suite.sh): every thread submits its own share of the
-- drafts `seed-draft-<n>` made by `amtsweg seed drafts`, each exactly once.
-- Environment: CSRF (the session's form token, URL-encoded), WRK_THREADS (wrk's -t).
local next_thread = 0

function setup(thread)
  thread:set("first", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  step = tonumber(os.getenv("WRK_THREADS"))
  nxt = first
  body = "_csrf=" .. os.getenv("CSRF") .. "&declaration=yes"
  -- wrk.format uses this table instead of the -H headers (the session cookie): copy them.
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
end

function request()
  local id = nxt
  nxt = nxt + step
  return wrk.format("POST", "/antraege/seed-draft-" .. id .. "/absenden", headers, body)
end
