// Package sim simulates load. It holds Sluice's own load generator, a cheap
// HTTP/1.1 client that keeps N connections busy for a fixed time and reports
// throughput, status counts and latency percentiles; the bare baseline server
// the waiting room's throughput is compared against (docs/BENCHMARKS.md);
// and the demo's simulated crowd (crowd.go).
//
// The client writes pre-built requests on raw keep-alive connections and
// parses responses with a minimal parser (status line, Content-Length or
// chunked framing, body skipped), because on a small machine the client's
// CPU competes with the server's: the cheaper the client, the more the
// measurement says about the server.
package sim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Request is one HTTP/1.1 request, sent again and again on each connection.
type Request struct {
	Method string
	Host   string
	Path   string
	// Header lines, "Name: value", without CRLF.
	Header []string
	Body   []byte
}

// Wire returns the request as bytes on the wire.
func (r Request) Wire() []byte {
	var b bytes.Buffer
	method := r.Method
	if method == "" {
		method = "GET"
	}
	path := r.Path
	if path == "" {
		path = "/"
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: sluice-sim\r\n", method, path, r.Host)
	for _, h := range r.Header {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	if len(r.Body) > 0 || method == "POST" || method == "PUT" || method == "PATCH" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.Body))
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return b.Bytes()
}

// Errors of the response parser.
var (
	ErrBadStatusLine = errors.New("sim: malformed status line")
	ErrBadHeader     = errors.New("sim: malformed header")
	ErrBadLength     = errors.New("sim: malformed Content-Length")
	ErrBadChunk      = errors.New("sim: malformed chunk")
	ErrLineTooLong   = errors.New("sim: response line too long")
)

// maxBodySkip bounds the body the parser is willing to skip, so that a
// garbage length cannot make the client read forever.
const maxBodySkip = 64 << 20

// ReadResponse reads one HTTP/1.1 response from br, skipping its body. It
// returns the status code and whether the server will close the connection
// after it (Connection: close, HTTP/1.0 without keep-alive, or a body
// delimited by the end of the connection). Interim 1xx responses are
// skipped. The response to a HEAD request cannot be parsed this way (its
// Content-Length describes a body that is not sent); the load generator
// does not send HEAD.
func ReadResponse(br *bufio.Reader) (status int, closeConn bool, err error) {
	for {
		status, closeConn, err = readOne(br)
		if err != nil || status >= 200 || status == 101 {
			return status, closeConn, err
		}
	}
}

func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, ErrLineTooLong
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

func readOne(br *bufio.Reader) (status int, closeConn bool, err error) {
	line, err := readLine(br)
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK" (the reason phrase may be empty or missing).
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return 0, false, ErrBadStatusLine
	}
	http10 := line[7] == '0'
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, false, ErrBadStatusLine
		}
		status = status*10 + int(c-'0')
	}
	if status < 100 {
		return 0, false, ErrBadStatusLine
	}
	length := int64(-1)
	chunked := false
	keepAlive := false
	for {
		line, err = readLine(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, false, err
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return 0, false, ErrBadHeader
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, perr := strconv.ParseInt(string(value), 10, 64)
			if perr != nil || n < 0 || (length >= 0 && n != length) {
				return 0, false, ErrBadLength
			}
			length = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			if bytes.EqualFold(value, []byte("close")) {
				closeConn = true
			} else if bytes.EqualFold(value, []byte("keep-alive")) {
				keepAlive = true
			}
		}
	}
	if http10 && !keepAlive {
		closeConn = true
	}
	switch {
	case status < 200 || status == 204 || status == 304:
		return status, closeConn, nil
	case chunked:
		return status, closeConn, skipChunked(br)
	case length >= 0:
		if length > maxBodySkip {
			return 0, false, ErrBadLength
		}
		if _, err := br.Discard(int(length)); err != nil {
			return 0, false, io.ErrUnexpectedEOF
		}
		return status, closeConn, nil
	}
	// No framing: the body runs to the end of the connection.
	if _, err := io.Copy(io.Discard, io.LimitReader(br, maxBodySkip)); err != nil {
		return 0, false, err
	}
	return status, true, nil
}

func skipChunked(br *bufio.Reader) error {
	for {
		line, err := readLine(br)
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseUint(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil || size > maxBodySkip {
			return ErrBadChunk
		}
		if size == 0 {
			// Trailers, then the empty line.
			for {
				line, err := readLine(br)
				if err != nil {
					return io.ErrUnexpectedEOF
				}
				if len(line) == 0 {
					return nil
				}
			}
		}
		if _, err := br.Discard(int(size)); err != nil {
			return io.ErrUnexpectedEOF
		}
		line, err = readLine(br)
		if err != nil {
			return io.ErrUnexpectedEOF
		}
		if len(line) != 0 {
			return ErrBadChunk
		}
	}
}
