package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"

	"sync/atomic"
	"time"
)

// Cache is what the handlers need of Redis/Valkey. Every method is bounded by the client's own
// timeout: the cache is an optimisation, so a slow or absent cache must never hold a request.
type Cache interface {
	Get(ctx context.Context, key string) (value []byte, ok bool, err error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Del(ctx context.Context, key string) error
}

// RESP is a minimal RESP2 client (AUTH, GET, SET PX, DEL) over a small pool of connections: the
// module has no Redis dependency, and these four commands are all it uses. After a failure it
// skips the server for `pause`, so an outage costs one timeout per pause, not one per request.
type RESP struct {
	addr     string
	user     string
	password string
	db       int
	tls      *tls.Config
	timeout  time.Duration
	pause    time.Duration
	pool     chan *respConn
	downTill atomic.Int64
}

type respConn struct {
	c net.Conn
	r *bufio.Reader
}

// ErrCacheDown is returned without a network call while the client pauses after a failure.
var ErrCacheDown = errors.New("cache unavailable (pausing after a failure)")

// NewRESP parses redis:// or rediss:// (TLS) URLs: redis://[user]:password@host:port/db.
func NewRESP(raw string, timeout time.Duration) (*RESP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url's error quotes the URL, password included.
		return nil, errors.New("REDIS_URL is not a URL")
	}
	c := &RESP{timeout: timeout, pause: time.Second, pool: make(chan *respConn, 16)}
	switch u.Scheme {
	case "redis":
	case "rediss":
		c.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	default:
		return nil, fmt.Errorf("REDIS_URL: scheme %q is not redis or rediss", u.Scheme)
	}
	port := u.Port()
	if port == "" {
		port = "6379"
	}
	c.addr = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		c.user = u.User.Username()
		c.password, _ = u.User.Password()
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		if c.db, err = strconv.Atoi(p); err != nil || c.db < 0 {
			return nil, fmt.Errorf("REDIS_URL: database %q is not a number", p)
		}
	}
	return c, nil
}

func (c *RESP) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := c.do(ctx, "GET", key)
	if err != nil {
		return nil, false, err
	}
	b, ok := v.([]byte)
	return b, ok, nil
}

func (c *RESP) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	_, err := c.do(ctx, "SET", key, string(value), "PX", strconv.FormatInt(ttl.Milliseconds(), 10))
	return err
}

func (c *RESP) Del(ctx context.Context, key string) error {
	_, err := c.do(ctx, "DEL", key)
	return err
}

// do runs one command on a pooled connection; any error closes that connection and starts a pause.
func (c *RESP) do(ctx context.Context, args ...string) (any, error) {
	if time.Now().UnixNano() < c.downTill.Load() {
		return nil, ErrCacheDown
	}
	conn, err := c.get(ctx)
	if err != nil {
		c.fail()
		return nil, err
	}
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.c.SetDeadline(deadline)
	v, err := roundTrip(conn, args...)
	var re respError
	if err != nil && !errors.As(err, &re) {
		conn.c.Close()
		c.fail()
		return nil, err
	}
	c.put(conn)
	return v, err
}

func (c *RESP) fail() { c.downTill.Store(time.Now().Add(c.pause).UnixNano()) }

func (c *RESP) get(ctx context.Context) (*respConn, error) {
	select {
	case conn := <-c.pool:
		return conn, nil
	default:
	}
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(dctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	if c.tls != nil {
		t := tls.Client(raw, c.tls)
		if err := t.HandshakeContext(dctx); err != nil {
			raw.Close()
			return nil, err
		}
		raw = t
	}
	conn := &respConn{c: raw, r: bufio.NewReader(raw)}
	_ = raw.SetDeadline(time.Now().Add(c.timeout))
	if c.password != "" {
		auth := []string{"AUTH", c.password}
		if c.user != "" {
			auth = []string{"AUTH", c.user, c.password}
		}
		if _, err := roundTrip(conn, auth...); err != nil {
			raw.Close()
			// The server's answer only: the command carried the password.
			return nil, fmt.Errorf("cache AUTH failed: %s", redactAuth(err))
		}
	}
	if c.db != 0 {
		if _, err := roundTrip(conn, "SELECT", strconv.Itoa(c.db)); err != nil {
			raw.Close()
			return nil, err
		}
	}
	return conn, nil
}

func redactAuth(err error) string {
	var re respError
	if errors.As(err, &re) {
		return string(re)
	}
	return "connection error"
}

func (c *RESP) put(conn *respConn) {
	select {
	case c.pool <- conn:
	default:
		conn.c.Close()
	}
}

// respError is the server's error reply (-ERR ...): the connection itself is still fine.
type respError string

func (e respError) Error() string { return "cache: " + string(e) }

func roundTrip(conn *respConn, args ...string) (any, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.c.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	return readReply(conn.r)
}

// readReply reads one RESP2 reply: a bulk string as []byte (nil for a miss), an integer, a simple
// string, or an error reply as respError.
func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return nil, fmt.Errorf("cache: malformed reply")
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, respError(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 || n > 512<<20 {
			return nil, fmt.Errorf("cache: malformed bulk length")
		}
		if n == -1 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return buf[:n], nil
	default:
		return nil, fmt.Errorf("cache: unexpected reply type %q", line[0])
	}
}
