package sim

import (
	"bufio"
	"context"
	"net"
	"time"
)

// Conn is one keep-alive HTTP/1.1 client connection to a server, dialled
// when first needed and again after the server closed it or an exchange
// failed. It sends one request at a time (no pipelining) and is not safe
// for concurrent use: each worker of the load generator has its own.
type Conn struct {
	addr   string
	dialer net.Dialer
	c      net.Conn
	br     *bufio.Reader
	reused bool // a response has already been read on c
}

// NewConn returns a connection to addr (HOST:PORT); nothing is dialled yet.
func NewConn(addr string) *Conn {
	return &Conn{addr: addr, dialer: net.Dialer{Timeout: 5 * time.Second}}
}

// Dial opens the connection if it is not open.
func (c *Conn) Dial(ctx context.Context) error {
	if c.c != nil {
		return nil
	}
	nc, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.c, c.reused = nc, false
	if c.br == nil {
		c.br = bufio.NewReaderSize(nc, 16<<10)
	} else {
		c.br.Reset(nc)
	}
	return nil
}

// Reused reports whether the next exchange goes over a connection that
// has already carried one. A request that fails there without an answer
// may have been sent on a connection the server had just closed as idle;
// the caller may send it again if that is safe.
func (c *Conn) Reused() bool { return c.c != nil && c.reused }

// Exchange writes the request wire (Request.AppendWire) and reads the
// response, all before deadline. With body nil the response body is
// skipped; otherwise it is appended to body[:0] and returned. Any error
// closes the connection, and so does a response that says the server
// closes it; the next exchange dials again.
func (c *Conn) Exchange(ctx context.Context, wire []byte, deadline time.Time, body []byte) (status int, respBody []byte, err error) {
	if err := c.Dial(ctx); err != nil {
		return 0, body, err
	}
	c.c.SetDeadline(deadline)
	if _, err := c.c.Write(wire); err != nil {
		c.Close()
		return 0, body, err
	}
	var closeConn bool
	if body == nil {
		status, closeConn, err = ReadResponse(c.br)
	} else {
		status, closeConn, body, err = ReadResponseBody(c.br, body)
	}
	if err != nil || closeConn {
		c.Close()
	} else {
		c.reused = true
	}
	return status, body, err
}

// Close closes the connection (if open).
func (c *Conn) Close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}
