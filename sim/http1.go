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
func (r Request) Wire() []byte { return r.AppendWire(nil) }

// AppendWire appends the request as bytes on the wire to dst, so that a
// client sending a different request each time can reuse one buffer.
func (r Request) AppendWire(dst []byte) []byte {
	method := r.Method
	if method == "" {
		method = "GET"
	}
	path := r.Path
	if path == "" {
		path = "/"
	}
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, path...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, r.Host...)
	dst = append(dst, "\r\nUser-Agent: sluice-sim\r\n"...)
	for _, h := range r.Header {
		dst = append(dst, h...)
		dst = append(dst, "\r\n"...)
	}
	if len(r.Body) > 0 || method == "POST" || method == "PUT" || method == "PATCH" {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(r.Body)), 10)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, r.Body...)
}

// Errors of the response parser.
var (
	ErrBadStatusLine = errors.New("sim: malformed status line")
	ErrBadHeader     = errors.New("sim: malformed header")
	ErrBadLength     = errors.New("sim: malformed Content-Length")
	ErrBadChunk      = errors.New("sim: malformed chunk")
	ErrLineTooLong   = errors.New("sim: response line too long")
)

// maxBodySkip bounds the body the parser is willing to skip or keep, so
// that a garbage length cannot make the client read forever.
const maxBodySkip = 64 << 20

// ReadResponse reads one HTTP/1.1 response from br, skipping its body. It
// returns the status code and whether the server will close the connection
// after it (Connection: close, HTTP/1.0 without keep-alive, or a body
// delimited by the end of the connection). Interim 1xx responses are
// skipped. The response to a HEAD request cannot be parsed this way (its
// Content-Length describes a body that is not sent); the load generator
// does not send HEAD.
func ReadResponse(br *bufio.Reader) (status int, closeConn bool, err error) {
	status, closeConn, _, err = readResponse(br, nil)
	return status, closeConn, err
}

// ReadResponseBody is ReadResponse keeping the body: it is appended to
// buf[:0] and returned.
func ReadResponseBody(br *bufio.Reader, buf []byte) (status int, closeConn bool, body []byte, err error) {
	if buf == nil {
		buf = []byte{}
	}
	return readResponse(br, buf[:0])
}

// readResponse skips the body if body is nil, else appends it to body.
func readResponse(br *bufio.Reader, body []byte) (status int, closeConn bool, _ []byte, err error) {
	for {
		status, closeConn, body, err = readOne(br, body)
		if err != nil || status >= 200 || status == 101 {
			return status, closeConn, body, err
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

// readBodyLine reads a line inside a chunked body, where the end of the
// input is always premature.
func readBodyLine(br *bufio.Reader) ([]byte, error) {
	line, err := readLine(br)
	if err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	return line, nil
}

func readOne(br *bufio.Reader, body []byte) (status int, closeConn bool, _ []byte, err error) {
	line, err := readLine(br)
	if err != nil {
		return 0, false, body, err
	}
	// "HTTP/1.1 200 OK" (the reason phrase may be empty or missing).
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		(len(line) > 12 && line[12] != ' ') {
		return 0, false, body, ErrBadStatusLine
	}
	http10 := line[7] == '0'
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, false, body, ErrBadStatusLine
		}
		status = status*10 + int(c-'0')
	}
	if status < 100 {
		return 0, false, body, ErrBadStatusLine
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
			return 0, false, body, err
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return 0, false, body, ErrBadHeader
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, perr := strconv.ParseInt(string(value), 10, 64)
			if perr != nil || n < 0 || (length >= 0 && n != length) {
				return 0, false, body, ErrBadLength
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
		return status, closeConn, body, nil
	case chunked:
		body, err = readChunked(br, body)
		return status, closeConn, body, err
	case length >= 0:
		if length > maxBodySkip {
			return 0, false, body, ErrBadLength
		}
		if body, err = readN(br, body, int(length)); err != nil {
			return 0, false, body, io.ErrUnexpectedEOF
		}
		return status, closeConn, body, nil
	}
	// No framing: the body runs to the end of the connection.
	w := io.Discard
	var keep *bytes.Buffer
	if body != nil {
		keep = bytes.NewBuffer(body)
		w = keep
	}
	if _, err := io.Copy(w, io.LimitReader(br, maxBodySkip)); err != nil {
		return 0, false, body, err
	}
	if keep != nil {
		body = keep.Bytes()
	}
	return status, true, body, nil
}

// readN reads n bytes from br, appending them to body, or skips them if
// body is nil.
func readN(br *bufio.Reader, body []byte, n int) ([]byte, error) {
	if body == nil {
		_, err := br.Discard(n)
		return nil, err
	}
	start := len(body)
	body = append(body, make([]byte, n)...)
	_, err := io.ReadFull(br, body[start:])
	return body, err
}

func readChunked(br *bufio.Reader, body []byte) ([]byte, error) {
	for {
		line, err := readBodyLine(br)
		if err != nil {
			return body, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		size, err := strconv.ParseUint(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil || size > maxBodySkip || len(body)+int(size) > maxBodySkip {
			return body, ErrBadChunk
		}
		if size == 0 {
			// Trailers, then the empty line.
			for {
				line, err := readBodyLine(br)
				if err != nil || len(line) == 0 {
					return body, err
				}
			}
		}
		if body, err = readN(br, body, int(size)); err != nil {
			return body, io.ErrUnexpectedEOF
		}
		line, err = readBodyLine(br)
		if err != nil {
			return body, err
		}
		if len(line) != 0 {
			return body, ErrBadChunk
		}
	}
}
