-- wrk script for the intake benchmark.
--
-- With an argument PREFIX, thread n sends the pre-signed requests of the file
-- PREFIX.n, each once: one line per request, the token, a tab, the body. A
-- thread that runs out sends its last request again; the replay is refused,
-- counted as an error, and flagged as "exhausted".
-- Without an argument, every thread sends GET /livez.
-- Every response outside 2xx is counted; done() prints one line of JSON.

local threads = {}
local counter = 0

function setup(thread)
   thread:set("number", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   non2xx = 0
   exhausted = 0
   queue = {}
   next_index = 1
   local prefix = args[1]
   bare = prefix == nil
   if bare then
      queue[1] = wrk.format("GET", "/livez")
      return
   end
   for line in io.lines(prefix .. "." .. number) do
      local tab = line:find("\t", 1, true)
      local headers = {
         ["Authorization"] = "Bearer " .. line:sub(1, tab - 1),
         ["Content-Type"] = "application/json",
      }
      table.insert(
         queue, wrk.format("POST", "/v1/reports", headers, line:sub(tab + 1))
      )
   end
end

function request()
   if bare then
      return queue[1]
   end
   if next_index > #queue then
      exhausted = 1
      return queue[#queue]
   end
   next_index = next_index + 1
   return queue[next_index - 1]
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
   end
end

function done(summary, latency, requests)
   local non2xx_total, exhausted_total = 0, 0
   for _, thread in ipairs(threads) do
      non2xx_total = non2xx_total + thread:get("non2xx")
      exhausted_total = exhausted_total + thread:get("exhausted")
   end
   local errors = summary.errors
   io.write(string.format(
      'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
         .. '"non2xx": %d, "socket_errors": %d, "exhausted_threads": %d}\n',
      summary.requests, summary.duration, latency:percentile(50),
      latency:percentile(99), non2xx_total,
      errors.connect + errors.read + errors.write + errors.timeout,
      exhausted_total
   ))
end
