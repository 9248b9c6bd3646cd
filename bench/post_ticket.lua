-- wrk script: POST a ticket with the bearer token and a fresh Idempotency-Key per request.
local token = os.getenv("OPSDESK_TOKEN")
local run = os.getenv("OPSDESK_RUN") or "run"
local path = os.getenv("OPSDESK_PATH") or "/api/v1/tickets"
local body = '{"title":"打印機卡紙","description":"bench","requester":{"name":"王小明","department":"辦公室"},"channel":"web","service_code":"RS-REPAIR"}'
local threads = {}
local counter = 0
-- `id` is a global: setup() sets it in each thread's own state. (It was a local here, which setup() cannot reach:
-- both threads sent the same keys, so half the POSTs were answered as replays of the other thread's; found
-- 2026-12-01, every earlier "tickets/s accepted" counted those replays.)
id = 0

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local headers = {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
    ["Idempotency-Key"] = string.format("%s-%d-%d", run, id, counter),
  }
  return wrk.format("POST", path, headers, body)
end
