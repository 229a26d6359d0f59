// The lab's frontend image for the local test cluster (tests/k8s): a stand-in for
// gcr.io/google-samples/gb-frontend:v4, whose Apache writes one *combined* access-log line
// per request to stdout. This server does the same, so `kubectl logs` and labsh's
// logs::parse_access see the lines a trainee sees: GET / answers 200 with a small page.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// combined writes Apache's "combined" format:
// %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"
func combined(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &recorder{ResponseWriter: w, status: 200}
		next.ServeHTTP(rec, req)
		host, _, err := net.SplitHostPort(req.RemoteAddr)
		if err != nil {
			host = req.RemoteAddr
		}
		size := "-"
		if rec.bytes > 0 {
			size = strconv.Itoa(rec.bytes)
		}
		fmt.Fprintf(os.Stdout, "%s - - [%s] \"%s %s %s\" %d %s \"%s\" \"%s\"\n",
			host, time.Now().Format("02/Jan/2006:15:04:05 -0700"),
			req.Method, req.RequestURI, req.Proto, rec.status, size,
			orDash(req.Referer()), orDash(req.UserAgent()))
	})
}

const page = `<html ng-app="redis">
  <head><title>Guestbook</title></head>
  <body><h2>Guestbook</h2><p>labsh test frontend</p></body>
</html>
`

func main() {
	addr := ":80"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/" {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, page)
	})
	fmt.Fprintf(os.Stderr, "frontend listening on %s\n", addr)
	if err := http.ListenAndServe(addr, combined(mux)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
