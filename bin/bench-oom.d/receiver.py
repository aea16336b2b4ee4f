"""A webhook receiver on 127.0.0.1: prints "<realtime ns on arrival> <oomKills> <id>" per request
(for an event without oomKills, such as io.jgovernor.pressure, its type instead)."""
import http.server, json, sys, time

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        t = time.time_ns()  # the request line and headers are in: the request has arrived
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        doc = json.loads(body)
        print(t, doc["data"].get("oomKills", doc["type"]), doc["id"], flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
print("listening", srv.server_address[1], file=sys.stderr, flush=True)
srv.serve_forever()
