package sim

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		status    int
		closeConn bool
		err       error // nil: no error; errAny: any error
		body      string
		rest      string
	}{
		{name: "content-length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello", status: 200, body: "hello"},
		{name: "leftover is the next response", in: "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n", status: 201, body: "{}", rest: "HTTP/1.1 200 OK\r\n"},
		{name: "header case and spaces", in: "HTTP/1.1 200 OK\r\ncontent-LENGTH:   3  \r\n\r\nabc", status: 200, body: "abc"},
		{name: "no reason phrase", in: "HTTP/1.1 204\r\n\r\n", status: 204},
		{name: "bare LF", in: "HTTP/1.1 200 OK\nContent-Length: 1\n\nx", status: 200, body: "x"},
		{name: "204 has no body", in: "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nnext", status: 204, rest: "next"},
		{name: "304 has no body", in: "HTTP/1.1 304 Not Modified\r\n\r\n", status: 304},
		{name: "chunked", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;ext=1\r\nabc\r\n0\r\nTrailer: x\r\n\r\nrest", status: 200, body: "helloabc", rest: "rest"},
		{name: "connection close", in: "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", status: 429, closeConn: true},
		{name: "http/1.0 closes", in: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", status: 200, closeConn: true},
		{name: "http/1.0 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", status: 200},
		{name: "body to EOF", in: "HTTP/1.1 200 OK\r\n\r\nuntil the end", status: 200, closeConn: true, body: "until the end"},
		{name: "interim 100 skipped", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", status: 201},
		{name: "empty input", in: "", err: io.EOF},
		{name: "truncated headers", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", err: io.ErrUnexpectedEOF},
		{name: "truncated body", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", err: io.ErrUnexpectedEOF},
		{name: "truncated chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhe", err: io.ErrUnexpectedEOF},
		{name: "not http", in: "SSH-2.0-OpenSSH\r\n\r\n", err: ErrBadStatusLine},
		{name: "short status line", in: "HTTP/1.1 20\r\n\r\n", err: ErrBadStatusLine},
		{name: "letters in status", in: "HTTP/1.1 2x0 OK\r\n\r\n", err: ErrBadStatusLine},
		{name: "status below 100", in: "HTTP/1.1 099 Low\r\n\r\n", err: ErrBadStatusLine},
		{name: "status run-on", in: "HTTP/1.1 2000 OK\r\n\r\n", err: ErrBadStatusLine},
		{name: "header without colon", in: "HTTP/1.1 200 OK\r\nBroken\r\n\r\n", err: ErrBadHeader},
		{name: "negative length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: ErrBadLength},
		{name: "garbage length", in: "HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n", err: ErrBadLength},
		{name: "conflicting lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", err: ErrBadLength},
		{name: "huge length", in: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", err: ErrBadLength},
		{name: "bad chunk size", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", err: ErrBadChunk},
		{name: "chunk without CRLF", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n", err: ErrBadChunk},
		{name: "line too long", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 100) + "\r\n\r\n", err: ErrLineTooLong},
	}
	// ReadResponse skips the body, ReadResponseBody keeps it: both must
	// frame the response alike.
	read := map[string]func(br *bufio.Reader) (int, bool, string, error){
		"skip": func(br *bufio.Reader) (int, bool, string, error) {
			status, closeConn, err := ReadResponse(br)
			return status, closeConn, "", err
		},
		"keep": func(br *bufio.Reader) (int, bool, string, error) {
			status, closeConn, body, err := ReadResponseBody(br, []byte("stale"))
			return status, closeConn, string(body), err
		},
	}
	for _, tt := range tests {
		for mode, readFn := range read {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				br := bufio.NewReaderSize(strings.NewReader(tt.in), 64)
				status, closeConn, body, err := readFn(br)
				if tt.err != nil {
					if !errors.Is(err, tt.err) {
						t.Fatalf("err = %v, want %v", err, tt.err)
					}
					return
				}
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if status != tt.status || closeConn != tt.closeConn {
					t.Errorf("got (%d, close=%v), want (%d, close=%v)", status, closeConn, tt.status, tt.closeConn)
				}
				if mode == "keep" && body != tt.body {
					t.Errorf("body %q, want %q", body, tt.body)
				}
				rest, _ := io.ReadAll(br)
				if string(rest) != tt.rest {
					t.Errorf("left %q unread, want %q", rest, tt.rest)
				}
			})
		}
	}
}

func TestRequestWire(t *testing.T) {
	tests := []struct {
		req  Request
		want string
	}{
		{JoinRequest("h:1", "demo"), "POST /api/v1/rooms/demo/tickets HTTP/1.1\r\nHost: h:1\r\nUser-Agent: sluice-sim\r\nContent-Length: 0\r\n\r\n"},
		{StatusRequest("h:1", "demo", "TOK"), "GET /api/v1/rooms/demo/status HTTP/1.1\r\nHost: h:1\r\nUser-Agent: sluice-sim\r\nAuthorization: Bearer TOK\r\n\r\n"},
		{BaselineRequest("h:1"), "GET / HTTP/1.1\r\nHost: h:1\r\nUser-Agent: sluice-sim\r\n\r\n"},
		{Request{Method: "PUT", Host: "h", Path: "/x", Body: []byte("{}")}, "PUT /x HTTP/1.1\r\nHost: h\r\nUser-Agent: sluice-sim\r\nContent-Length: 2\r\n\r\n{}"},
	}
	for _, tt := range tests {
		if got := string(tt.req.Wire()); got != tt.want {
			t.Errorf("Wire() = %q, want %q", got, tt.want)
		}
	}
}

// The parser must read what net/http really writes, whatever the framing.
func TestReadResponseFromNetHTTP(t *testing.T) {
	big := strings.Repeat("x", 10000) // past http.Server's buffer: chunked
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write([]byte(big))
			w.(http.Flusher).Flush()
			w.Write([]byte(big))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/close":
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.Write(BaselineBody)
		}
	}))
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	for _, step := range []struct {
		path      string
		status    int
		closeConn bool
	}{{"/", 200, false}, {"/big", 200, false}, {"/empty", 204, false}, {"/", 200, false}, {"/close", 429, true}} {
		if _, err := c.Write(Request{Host: "x", Path: step.path}.Wire()); err != nil {
			t.Fatal(err)
		}
		status, closeConn, err := ReadResponse(br)
		if err != nil || status != step.status || closeConn != step.closeConn {
			t.Fatalf("%s: got (%d, %v, %v), want (%d, %v)", step.path, status, closeConn, err, step.status, step.closeConn)
		}
	}
}

func TestHistogram(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 {
		t.Fatal("empty histogram: want 0")
	}
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}} {
		got := h.Quantile(tc.q)
		if diff := float64(got-tc.want) / float64(tc.want); diff > 0.02 || diff < -0.02 {
			t.Errorf("q%v = %v, want %v within 2%%", tc.q, got, tc.want)
		}
	}
	if h.Max() != time.Millisecond || h.Count() != 1000 {
		t.Errorf("max %v count %d", h.Max(), h.Count())
	}
	// Every value maps to a bucket whose middle is within 1.6%.
	for _, v := range []uint64{0, 1, 127, 128, 129, 1000, 123456, 1 << 40, 1<<63 + 12345} {
		i := histIndex(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("histIndex(%d) = %d out of range", v, i)
		}
		mid := histValue(i)
		if v >= 128 {
			if d := float64(mid) - float64(v); d/float64(v) > 0.016 || d/float64(v) < -0.016 {
				t.Errorf("value %d: bucket middle %d", v, mid)
			}
		} else if mid != v {
			t.Errorf("value %d: bucket middle %d", v, mid)
		}
	}
}

func TestRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/limited" {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		BaselineHandler().ServeHTTP(w, r)
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	res, err := Run(context.Background(), Config{Addr: addr, Request: BaselineRequest(addr), Connections: 4, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Errors() != 0 || res.RPS() <= 0 || res.Latency.Count() != res.OK {
		t.Fatalf("unexpected result: ok=%d errors=%d rps=%v %s", res.OK, res.Errors(), res.RPS(), res.StatusSummary())
	}
	res, err = Run(context.Background(), Config{Addr: addr, Request: Request{Host: addr, Path: "/limited"}, Connections: 2, Duration: time.Second, Requests: 10})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 0 || res.ByStatus[429] != 10 || res.StatusSummary() != "429:10" {
		t.Fatalf("budget of 10: got %s", res.StatusSummary())
	}
	if _, err := Run(context.Background(), Config{Addr: addr, Duration: 0}); err == nil {
		t.Error("zero duration accepted")
	}
	srv.Close()
	if _, err := Run(context.Background(), Config{Addr: addr, Duration: time.Second}); err == nil {
		t.Error("closed server: want an error")
	}
}

func BenchmarkReadResponse(b *testing.B) {
	resp := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Length: 144\r\n\r\n" + string(BaselineBody)
	r := strings.NewReader(resp)
	br := bufio.NewReader(r)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(resp)
		br.Reset(r)
		if _, _, err := ReadResponse(br); err != nil {
			b.Fatal(err)
		}
	}
}
