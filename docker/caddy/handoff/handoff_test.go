package handoff

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

func TestRequestCloses(t *testing.T) {
	for _, c := range []struct {
		req  string
		want bool
	}{
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nhost: a\r\nCONNECTION:Close\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nConnection: Upgrade\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nX-Note: connection: close\r\n\r\n", false},
		{"GET / HTTP/1.0\r\nHost: a\r\n\r\n", true},
		{"GET / http/1.0\r\n\r\n", true},
		{"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", false},
		// the head is cut at its end: a body that looks like a header does not count
		{"POST / HTTP/1.1\r\nContent-Length: 19\r\n\r\nConnection: close\r\n", false},
		// a head read in part (the rest still on the wire)
		{"GET / HTTP/1.1\r\nConnection: clo", false},
		{"GET / HTTP/1.0", true},
	} {
		if got := requestCloses([]byte(c.req)); got != c.want {
			t.Errorf("requestCloses(%q) = %v, want %v", c.req, got, c.want)
		}
	}
}

// It runs on every response, so it must not allocate.
func TestRequestClosesDoesNotAllocate(t *testing.T) {
	req := []byte("GET /v1/items HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: wrk\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n")
	if n := testing.AllocsPerRun(100, func() { requestCloses(req) }); n != 0 {
		t.Fatalf("%v allocations per call", n)
	}
}

// A read ended by a past deadline (net/http ending its background read, on every request) is a
// timeout, found without allocating; a reset connection is not one.
func TestIsTimeoutOnRealConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			time.Sleep(200 * time.Millisecond)
			c.(*net.TCPConn).SetLinger(0)
			c.Close() // a reset
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Unix(1, 0))
	_, timeout := c.Read(make([]byte, 1))
	if !isTimeout(timeout) || !isTimeout(fmt.Errorf("wrapped: %w", timeout)) {
		t.Fatalf("a past deadline: %v", timeout)
	}
	if n := testing.AllocsPerRun(100, func() { isTimeout(timeout) }); n != 0 {
		t.Errorf("%v allocations per call", n)
	}
	c.SetReadDeadline(time.Time{})
	_, reset := c.Read(make([]byte, 1))
	if reset == nil || isTimeout(reset) || isTimeout(errors.New("EOF")) {
		t.Errorf("a reset or an EOF taken for a timeout: %v", reset)
	}
}

// A connection whose server shuts down goes to the newer config's server, unless its last request
// asked for the end of the connection (read only at the close, not on every response).
func TestOnlyAClientThatDidNotAskToCloseIsHandedOver(t *testing.T) {
	for i, tc := range []struct {
		request string
		handed  bool
	}{
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false},
		{"GET / HTTP/1.0\r\nHost: a\r\n\r\n", false},
		{"GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", true},
	} {
		key := fmt.Sprintf("test/handover-%d", i)
		old := &listener{key: key, closed: make(chan struct{}), handed: make(chan net.Conn, 1)}
		newer := &listener{key: key, closed: make(chan struct{}), handed: make(chan net.Conn, 1)}
		registryMu.Lock()
		newest[key] = newer
		registryMu.Unlock()
		server, client := net.Pipe()
		c := &conn{Conn: server, l: old}
		go func() {
			_, _ = client.Write([]byte(tc.request))
			_, _ = io.ReadAll(client)
		}()
		buf := make([]byte, 512)
		if _, err := c.Read(buf); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte("HTTP/1.1 204 No Content\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		close(old.closed) // the old config's server shuts down
		_ = c.Close()
		handed := len(newer.handed) == 1
		if handed != tc.handed {
			t.Errorf("%q: handed over %v, want %v", tc.request, handed, tc.handed)
		}
		client.Close()
		server.Close()
		registryMu.Lock()
		delete(newest, key)
		registryMu.Unlock()
	}
}
