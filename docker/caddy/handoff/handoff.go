// Package handoff is a Caddy listener wrapper (`caddy.listeners.slipway_handoff`) that lets a
// config reload cost no request on HTTP/1.1 keep-alive connections.
//
// On a reload Caddy starts the new config's servers on the same sockets, then shuts the old ones
// down with net/http's Server.Shutdown, which closes every idle keep-alive connection at once and
// closes a busy one after its response (whose header, written a moment before, may not say
// `Connection: close`). A client that sends its next request on such a connection as it closes
// gets a reset, and a POST must not be retried. Go's server also drops, unanswered, a request it
// read after the shutdown began. No Caddy 2.10 setting avoids this (shutdown_delay applies only
// to listeners that close, and the old server never says `Connection: close` on its own).
//
// This wrapper hands such connections to the server of the new config instead of closing them:
// between two requests an HTTP/1.1 connection carries no state, so the new server simply reads
// the next request from it, plus any bytes the old server read without answering. A connection
// is handed over only when its listener was closed (the old server is shutting down), the last
// response did not announce `Connection: close`, nothing failed on it, and a listener of a newer
// config serves the same address; anything else closes as before. TLS connections are passed
// through untouched (the wrapper runs after the TLS placeholder; HTTP/2 has GOAWAY for this).
package handoff

import (
	"bytes"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
)

func init() {
	caddy.RegisterModule(Handoff{})
}

// Handoff is the listener wrapper module. It has no settings.
type Handoff struct{}

// CaddyModule returns the Caddy module information.
func (Handoff) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "caddy.listeners.slipway_handoff",
		New: func() caddy.Module { return new(Handoff) },
	}
}

// replayLimit bounds the unanswered request bytes kept for a handover; a larger request (a big
// body) that the old server read without answering closes as before.
const replayLimit = 64 << 10

var (
	registryMu sync.Mutex
	// newest open listener per address: the one a connection is handed to.
	newest = map[string]*listener{}
)

// WrapListener registers the listener as the newest for its address.
func (Handoff) WrapListener(ln net.Listener) net.Listener {
	l := &listener{
		Listener: ln,
		key:      ln.Addr().Network() + "/" + ln.Addr().String(),
		accepted: make(chan accepted),
		handed:   make(chan net.Conn, 256),
		closed:   make(chan struct{}),
	}
	registryMu.Lock()
	newest[l.key] = l
	registryMu.Unlock()
	go l.pump()
	return l
}

type accepted struct {
	c   net.Conn
	err error
}

type listener struct {
	net.Listener
	key       string
	accepted  chan accepted
	handed    chan net.Conn
	closed    chan struct{}
	closeOnce sync.Once
}

// pump accepts from the socket, so Accept can also return handed-over connections meanwhile.
func (l *listener) pump() {
	for {
		c, err := l.Listener.Accept()
		select {
		case l.accepted <- accepted{c, err}:
		case <-l.closed:
			if c != nil {
				// accepted as this server stopped: the newer one serves it
				if !give(l.key, c, nil) {
					c.Close()
				}
			}
			return
		}
		if err != nil {
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) {
				return
			}
		}
	}
}

func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.handed:
		return c, nil
	case a := <-l.accepted:
		if a.err != nil {
			return nil, a.err
		}
		return l.wrap(a.c), nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *listener) Close() error {
	l.closeOnce.Do(func() {
		registryMu.Lock()
		if newest[l.key] == l {
			delete(newest, l.key)
		}
		registryMu.Unlock()
		close(l.closed)
		// handed over after this server stopped accepting: pass them on
		for {
			select {
			case c := <-l.handed:
				if !give(l.key, c, nil) {
					c.Close()
				}
				continue
			default:
			}
			break
		}
	})
	return l.Listener.Close()
}

func (l *listener) isClosed() bool {
	select {
	case <-l.closed:
		return true
	default:
		return false
	}
}

func (l *listener) wrap(c net.Conn) net.Conn {
	if _, isTLS := c.(interface{ Handshake() error }); isTLS {
		return c
	}
	return &conn{Conn: c, l: l}
}

// give hands raw connection c (with bytes to replay first) to the newest open listener for key.
func give(key string, c net.Conn, replay []byte) bool {
	registryMu.Lock()
	to := newest[key]
	registryMu.Unlock()
	if to == nil || to.isClosed() {
		return false
	}
	nc := &conn{Conn: c, l: to, replay: replay}
	select {
	case to.handed <- nc:
		return true
	default:
		return false
	}
}

// errHandedOver is what the old server reads once its connection went to the new one: a timeout,
// which net/http treats as a quiet end of the connection (no error response is written).
type errHandedOverT struct{}

func (errHandedOverT) Error() string   { return "connection handed over to the new config's server" }
func (errHandedOverT) Timeout() bool   { return true }
func (errHandedOverT) Temporary() bool { return true }

var errHandedOver net.Error = errHandedOverT{}

var connectionClose = []byte("\r\nConnection: close\r\n")

type conn struct {
	net.Conn
	l *listener

	mu        sync.Mutex
	replay    []byte // bytes to return before reading the socket (handed over with the connection)
	unheard   []byte // bytes read since the last write: a request not answered yet
	answered  []byte // the last answered request's bytes (swapped with unheard, never copied)
	overflow  bool   // unheard exceeded replayLimit
	reading   bool   // a Read is blocked on the socket
	announced bool   // the last response said Connection: close
	failed    bool   // a read or write failed
	pending   bool   // Close asked while a Read was blocked: hand over when it returns
	gone      bool   // handed over or closed: this wrapper must not touch the socket again
}

func (c *conn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if c.gone {
		c.mu.Unlock()
		return 0, errHandedOver
	}
	if len(c.replay) > 0 {
		n := copy(b, c.replay)
		c.replay = c.replay[n:]
		c.remember(b[:n])
		c.mu.Unlock()
		return n, nil
	}
	c.reading = true
	c.mu.Unlock()

	n, err := c.Conn.Read(b)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.reading = false
	if n > 0 {
		c.remember(b[:n])
	}
	if c.pending {
		c.pending = false
		if err != nil && !isTimeout(err) {
			// the client closed or reset meanwhile: nothing to hand over
			c.gone = true
			c.Conn.Close()
			return 0, errHandedOver
		}
		c.handOver()
		return 0, errHandedOver
	}
	// A timeout is net/http ending a background read or an idle wait, not a broken connection.
	if err != nil && !isTimeout(err) {
		c.failed = true
	}
	return n, err
}

// remember keeps bytes of a request not answered yet (mu held).
func (c *conn) remember(p []byte) {
	if c.overflow {
		return
	}
	if len(c.unheard)+len(p) > replayLimit {
		c.overflow = true
		c.unheard = nil
		return
	}
	c.unheard = append(c.unheard, p...)
}

func (c *conn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.gone {
		c.mu.Unlock()
		return 0, errHandedOver
	}
	// An answer: what was read so far was heard. Whether that request asked for the close is read
	// only when the connection closes (closes), not on every response.
	if len(c.unheard) > 0 {
		c.answered, c.unheard = c.unheard, c.answered
	}
	c.unheard = c.unheard[:0]
	c.overflow = false
	if bytes.HasPrefix(b, []byte("HTTP/1.")) {
		head := b
		if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
			head = b[:i+2]
		}
		c.announced = bytes.Contains(head, connectionClose)
	}
	c.mu.Unlock()
	n, err := c.Conn.Write(b)
	if err != nil {
		c.mu.Lock()
		c.failed = true
		c.mu.Unlock()
	}
	return n, err
}

// handOver gives the socket to the newest listener, with the unanswered bytes (mu held).
func (c *conn) handOver() {
	c.gone = true
	_ = c.Conn.SetDeadline(time.Time{})
	var replay []byte
	if len(c.unheard) > 0 {
		replay = append([]byte(nil), c.unheard...)
	}
	if !give(c.l.key, c.Conn, replay) {
		c.Conn.Close()
	}
}

// shutdownRace bounds how long a close that may come from a server shutting down waits for the
// shutdown to close the listener: net/http marks itself shutting down a moment before it closes
// its listeners, and a connection that finishes a response in between is closed by its own
// goroutine (without `Connection: close`, or dropping a request it just read).
const shutdownRace = 100 * time.Millisecond

func (c *conn) Close() error {
	c.mu.Lock()
	eligible := !c.gone && !c.pending && !c.closes() && !c.failed && !c.overflow
	c.mu.Unlock()
	if eligible && !c.l.isClosed() {
		// Outside shutdowns net/http closes a connection it did not announce closing only on an
		// idle timeout or for an HTTP/1.0 client: waiting costs those a moment, nothing else.
		t := time.NewTimer(shutdownRace)
		select {
		case <-c.l.closed:
		case <-t.C:
		}
		t.Stop()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone || c.pending {
		return nil
	}
	if !c.l.isClosed() || c.closes() || c.failed || c.overflow {
		c.gone = true
		return c.Conn.Close()
	}
	if c.reading {
		// net/http closes an idle connection while its goroutine waits for the next request:
		// wake that read; it hands the socket over when it returns
		c.pending = true
		_ = c.Conn.SetReadDeadline(time.Unix(1, 0))
		return nil
	}
	c.handOver()
	return nil
}

// closes reports whether the end of the connection was announced (mu held): by the last response's
// Connection: close, or by its request (a client that asked to close, or speaks HTTP/1.0 without
// keep-alive, expects the end of the connection).
func (c *conn) closes() bool {
	return c.announced || requestCloses(c.answered)
}

func (c *conn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone || c.pending {
		return nil
	}
	return c.Conn.SetDeadline(t)
}

func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone || c.pending {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// requestCloses reports whether an HTTP/1.x request (its first bytes) asks the server to close
// the connection after the answer: a Connection header with the close token, or HTTP/1.0 without
// keep-alive. It scans the head in place, with no copy.
func requestCloses(req []byte) bool {
	if end := bytes.Index(req, []byte("\r\n\r\n")); end >= 0 {
		req = req[:end]
	}
	line, rest, _ := bytes.Cut(req, []byte("\r\n"))
	http10 := len(line) >= 8 && bytes.EqualFold(line[len(line)-8:], []byte("HTTP/1.0"))
	keepAlive := false
	for len(rest) > 0 {
		var field []byte
		field, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(field, []byte(":"))
		if !ok || !bytes.EqualFold(name, []byte("Connection")) {
			continue
		}
		for len(value) > 0 {
			var token []byte
			token, value, _ = bytes.Cut(value, []byte(","))
			token = bytes.TrimSpace(token)
			if bytes.EqualFold(token, []byte("close")) {
				return true
			}
			keepAlive = keepAlive || bytes.EqualFold(token, []byte("keep-alive"))
		}
	}
	return http10 && !keepAlive
}

// isTimeout runs on every request (net/http ends its background read with a past deadline), so
// it asks the error directly before unwrapping: errors.As would allocate its target each time.
func isTimeout(err error) bool {
	if ne, ok := err.(net.Error); ok {
		return ne.Timeout()
	}
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// Interface guards
var (
	_ caddy.ListenerWrapper = (*Handoff)(nil)
	_ net.Conn              = (*conn)(nil)
)
