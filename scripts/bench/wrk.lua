-- The closed-loop throughput load for wrk: POST BENCH_BODY with the headers in BENCH_HEADERS
-- ("Name: value" lines). Counts every request it sends, so the benchmark can check that the
-- gateway logged each one, and prints the summary as one `WRK_JSON {...}` line. With BENCH_PORTS
-- ("port,port"), thread i connects to the i-th port on the URL's host: two instances, each with its
-- share of the connections (wrk's connections are per thread, and a thread has one address).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
	local name, value = line:match("^([^:]+):%s*(.*)$")
	if name then wrk.headers[name] = value end
end

local threads = {}
local ports = {}
for port in (os.getenv("BENCH_PORTS") or ""):gmatch("%d+") do
	table.insert(ports, port)
end

function setup(thread)
	table.insert(threads, thread)
	if #ports > 0 then
		local port = ports[(#threads - 1) % #ports + 1]
		thread.addr = wrk.lookup(wrk.host, port)[1]
	end
end

local prepared

function init(args)
	sent = 0
	prepared = wrk.format()
end

-- Defining request() makes wrk call it for each request; it costs little and lets us count.
function request()
	sent = sent + 1
	return prepared
end

function done(summary, latency, requests)
	-- wrk calls request() once on the first thread before the run, to check the request
	-- (script_verify_request in wrk.c): that one is never sent.
	local total = -1
	for _, thread in ipairs(threads) do
		total = total + thread:get("sent")
	end
	local e = summary.errors
	io.write(string.format(
		'WRK_JSON {"requests":%d,"sent":%d,"durationUs":%d,' ..
			'"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
			'"latencyUs":{"p50":%d,"p99":%d}}\n',
		summary.requests, total, summary.duration,
		e.connect, e.read, e.write, e.status, e.timeout,
		latency:percentile(50), latency:percentile(99)))
end
